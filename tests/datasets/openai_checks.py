"""OpenAI's format checks for chat fine-tuning data, written out from the cookbook
"Data preparation and analysis for chat model fine-tuning", applied to a JSONL file.

    python openai_checks.py sft FILE   # {"messages": [...]} per line
    python openai_checks.py dpo FILE   # {"input": {"messages": [...]}, "preferred_output": [...], ...}

A preference line is checked as two chat examples (the input's messages with each
output). Exits 1 with the error counts when any line fails; prints the cookbook's token
figures (tiktoken's cl100k_base when installed, else a word count) otherwise.
"""

import json
import sys
from collections import defaultdict

TOKEN_LIMIT = 16385


def format_errors(dataset):
    """The cookbook's checks, as it writes them."""
    errors = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                errors["message_missing_key"] += 1
            if any(k not in ("role", "content", "name", "function_call", "weight") for k in message):
                errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function"):
                errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None)
            if (not content and not function_call) or not isinstance(content, str):
                errors["missing_content"] += 1
        if not any(message.get("role", None) == "assistant" for message in messages):
            errors["example_missing_assistant_message"] += 1
    return errors


def preference_examples(lines):
    """Each preference line as two chat examples, and the errors of its own shape."""
    errors = defaultdict(int)
    examples = []
    for line in lines:
        if not isinstance(line, dict) or set(line) != {"input", "preferred_output", "non_preferred_output"}:
            errors["dpo_keys"] += 1
            continue
        messages = line["input"].get("messages") if isinstance(line["input"], dict) else None
        if not isinstance(messages, list) or not messages or messages[-1].get("role") != "user":
            errors["dpo_input_not_ending_with_user"] += 1
            continue
        for key in ("preferred_output", "non_preferred_output"):
            output = line[key]
            if not (isinstance(output, list) and len(output) == 1 and output[0].get("role") == "assistant"):
                errors["dpo_output_not_one_assistant_message"] += 1
                continue
            examples.append({"messages": messages + output})
    return examples, errors


def token_counter():
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base")
        return lambda text: len(encoding.encode(text))
    except Exception:  # not installed or no network for its tables
        return lambda text: len(text.split())


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    if not lines:
        print(f"{path}: no examples")
        return 1
    if kind == "dpo":
        dataset, errors = preference_examples(lines)
    else:
        dataset, errors = lines, defaultdict(int)
    for name, count in format_errors(dataset).items():
        errors[name] += count
    if errors:
        print(f"{path}: found errors:")
        for name, count in errors.items():
            print(f"  {name}: {count}")
        return 1
    count = token_counter()
    lengths = [sum(3 + count(m["content"]) for m in ex["messages"]) + 3 for ex in dataset]
    over = sum(1 for n in lengths if n > TOKEN_LIMIT)
    print(
        f"{path}: {len(lines)} lines, {len(dataset)} examples, no errors; "
        f"tokens min {min(lengths)}, max {max(lengths)}; {over} over {TOKEN_LIMIT}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
