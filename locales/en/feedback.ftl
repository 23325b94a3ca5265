# Feedback under an answer: thumbs, reason tags, a comment and a better answer.

feedback-good = Good answer
feedback-bad = Bad answer
feedback-yours = Your feedback
feedback-more = Tell us more
feedback-why = Why?
feedback-comment = Comment
feedback-correction = Write a better answer
feedback-correction-placeholder = The answer you would have wanted
feedback-save = Save feedback
feedback-remove = Remove my feedback
feedback-saved = Thank you: saved.
feedback-removed = Removed.

# A reason tag, by its stored name (domain::FeedbackTag); the review pages use it too.
feedback-tag = { $tag ->
    [accurate] Accurate
    [helpful] Helpful
    [wrong_facts] Wrong facts
    [needless_refusal] Refused when it should not
    [too_long] Too long
    [unsafe] Unsafe
    [formatting] Formatting
   *[other] { $tag }
}
