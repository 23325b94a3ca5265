// Renders a prompt app with Google's dotprompt package (the reference implementation) and
// compares the result with promptship's. Run by conformance.sh, which installs the package.
//
//   node render.mjs render FILE            one line: {"messages":[{"role","content"}]} for the
//                                          app's promptship.sample, as the reference renders it;
//                                          fails unless the reference parses the file, `name` is
//                                          the file's, the sample gives exactly the declared
//                                          input fields and the template reads no other
//   node render.mjs compare NAME REF OURS  compares two such files as JSON; prints a diff
//
// APPS_NODE_DIR names the folder whose node_modules holds dotprompt (default: ../../target/apps-node).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const nodeDir = process.env.APPS_NODE_DIR ?? fileURLToPath(new URL('../../target/apps-node', import.meta.url));
const require = createRequire(join(nodeDir, 'package.json'));

// dotprompt's role for the model is "model"; OpenAI's, which promptship sends, is "assistant".
const ROLES = { system: 'system', user: 'user', model: 'assistant' };
// Helpers a template may call: dotprompt's own and Handlebars' built-ins. Inside the blocks
// that change the context (#each, #with), names refer to the item, not to the input.
const HELPERS = new Set(['role', 'json', 'history', 'section', 'media', 'ifEquals', 'unlessEquals',
  'if', 'unless', 'each', 'with', 'lookup', 'log']);
const CONTEXT_HELPERS = new Set(['each', 'with']);

function fail(message) {
  console.error(message);
  process.exit(1);
}

async function render(file) {
  const { Dotprompt } = require('dotprompt');
  const source = readFileSync(file, 'utf8');
  const name = basename(file, '.prompt');
  const dotprompt = new Dotprompt();

  // On bad YAML the reference logs, then renders the whole file as a template; only a
  // successful parse sets `raw`.
  const parsed = dotprompt.parse(source);
  if (!parsed.raw) fail(`${file}: the reference could not parse the front matter (see above)`);
  if (parsed.name !== name) fail(`${file}: name is ${JSON.stringify(parsed.name)}, not the file's name "${name}"`);
  const sample = parsed.ext?.promptship?.sample;
  if (!sample || typeof sample !== 'object' || Array.isArray(sample)) fail(`${file}: no promptship.sample (an object of input fields)`);

  // The reference ignores the file's input.default when rendering, so a sample that leaves a
  // field out would compare defaults, not templates: it must give every declared field.
  const metadata = await dotprompt.renderMetadata(parsed);
  const declared = Object.keys(metadata.input?.schema?.properties ?? {});
  const missing = declared.filter((key) => !(key in sample));
  const extra = Object.keys(sample).filter((key) => !declared.includes(key));
  if (missing.length) fail(`${file}: promptship.sample leaves out ${missing.join(', ')}`);
  if (extra.length) fail(`${file}: promptship.sample has fields the input schema does not declare: ${extra.join(', ')}`);
  const undeclared = undeclaredVariables(require('handlebars').parse(parsed.template), new Set(declared));
  if (undeclared.length) fail(`${file}: the template reads ${undeclared.join(', ')}, which the input schema does not declare`);

  const rendered = await dotprompt.render(source, { input: sample });
  const messages = rendered.messages.map((message, i) => {
    const role = ROLES[message.role];
    if (!role) fail(`${file}: message ${i + 1} has role "${message.role}", which promptship does not send`);
    const nonText = message.content.find((part) => typeof part.text !== 'string');
    if (nonText) fail(`${file}: message ${i + 1} has a part that is not text: ${JSON.stringify(nonText)}`);
    return { role, content: message.content.map((part) => part.text).join('') };
  });
  process.stdout.write(JSON.stringify({ messages }) + '\n');
}

// Names of the input read by the template outside #each/#with blocks, where the context is
// the input itself (also `@root.name` anywhere), that the input schema does not declare.
function undeclaredVariables(program, declared) {
  const found = new Set();
  const path = (node, scope) => {
    if (node?.type === 'SubExpression') return call(node, scope);
    if (node?.type !== 'PathExpression') return;
    const [first, second] = node.parts;
    const name = node.data ? (first === 'root' ? second : undefined) : node.depth === scope ? first : undefined;
    if (name !== undefined && !declared.has(name)) found.add(name);
  };
  const call = (node, scope) => {
    const helper = HELPERS.has(node.path.original);
    if (!helper) path(node.path, scope);
    for (const param of node.params) path(param, scope);
    for (const pair of node.hash?.pairs ?? []) path(pair.value, scope);
    const inner = helper && !CONTEXT_HELPERS.has(node.path.original) ? scope : scope + 1;
    if (node.program) walk(node.program, inner);
    if (node.inverse) walk(node.inverse, scope);
  };
  const walk = (block, scope) => {
    for (const node of block.body) {
      if (node.type === 'MustacheStatement' || node.type === 'BlockStatement') call(node, scope);
    }
  };
  walk(program, 0);
  return [...found];
}

// A view of a rendered app for a line diff: each message's role, then its content one line
// at a time as JSON strings, so a missing newline or a trailing space shows.
function view(doc) {
  const messages = Array.isArray(doc?.messages) ? doc.messages : null;
  if (!messages || messages.some((m) => typeof m?.content !== 'string')) {
    return JSON.stringify(doc, null, 2) + '\n';
  }
  return messages
    .map((m, i) => {
      const { role, content, ...rest } = m;
      const head = `message ${i + 1}: role ${JSON.stringify(role)}` +
        (Object.keys(rest).length ? `, other keys ${JSON.stringify(rest)}` : '');
      const lines = content.split(/(?<=\n)/).map((line) => `  ${JSON.stringify(line)}`);
      return [head, ...lines].join('\n') + '\n';
    })
    .join('') + (Object.keys(doc).length > 1 ? `other keys: ${Object.keys(doc).join(', ')}\n` : '');
}

function compare(name, referenceFile, oursFile) {
  const reference = JSON.parse(readFileSync(referenceFile, 'utf8'));
  const text = readFileSync(oursFile, 'utf8');
  if (!/^[^\n]*\n?$/.test(text)) fail(`${name}: promptship printed more than one line:\n${text}`);
  let ours;
  try {
    ours = JSON.parse(text);
  } catch (error) {
    fail(`${name}: promptship printed something that is not JSON (${error.message}):\n${text}`);
  }
  if (isDeepStrictEqual(reference, ours)) return;

  const scratch = mkdtempSync(join(tmpdir(), 'apps-diff-'));
  try {
    writeFileSync(join(scratch, 'reference'), view(reference));
    writeFileSync(join(scratch, 'promptship'), view(ours));
    const diff = spawnSync('diff', ['-u', '--label', 'reference', '--label', 'promptship', 'reference', 'promptship'], { cwd: scratch, encoding: 'utf8' });
    console.error(`${name}: promptship's messages differ from the reference's (- reference, + promptship):`);
    console.error(diff.stdout || `reference:  ${JSON.stringify(reference)}\npromptship: ${JSON.stringify(ours)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(1);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'render' && args.length === 1) {
  await render(args[0]).catch((error) => fail(`${args[0]}: the reference could not render it: ${error.message}`));
}
else if (command === 'compare' && args.length === 3) compare(...args);
else fail('usage: node render.mjs render FILE | compare NAME REFERENCE_JSON PROMPTSHIP_JSON');
