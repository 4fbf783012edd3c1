"""The default model's task, fixed (the Java examples and tests rely on it): how an image is drawn,
what each of the four prompts must answer, the CLIP preprocessing the Java ClipImageProcessor
applies, and the word-level vocabulary with the chat prompt layout. Used by
train_default_model.py; see its docstring for the task in words.
"""
import math

import numpy as np
import torch
from PIL import Image, ImageDraw

# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------
COLORS = {
    "red": (220, 30, 30),
    "green": (30, 180, 30),
    "blue": (30, 60, 220),
    "yellow": (230, 210, 30),
    "purple": (140, 40, 180),
    "orange": (240, 130, 20),
}
BACKGROUNDS = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128)}
SHAPES = ["circle", "square", "triangle", "star"]
PROMPTS = ["Describe the image.", "What color is the shape?", "What shape is this?",
           "What is the background color?"]
MIN_SIDE, MAX_SIDE = 48, 256
# The shape's bounding box side is drawn from [MIN_FRACTION, 1] of the shorter side. A star
# inside a d-wide box is 2*R*sin(72) = 0.951*d wide, so 0.27 keeps every shape >= 1/4 across.
MIN_FRACTION = 0.27
SMALL_FRACTION = 0.55
# Inner/outer radius of a regular five-pointed star (the pentagram's ratio).
STAR_INNER = 0.381966


def answer(prompt_index, color, shape, background):
    if prompt_index == 0:
        return f"a {color} {shape} on a {background} background"
    return [None, color, shape, background][prompt_index]


def shape_polygon(shape, x0, y0, d):
    """Vertices of the shape in its d x d box at (x0, y0), in float pixel coordinates (corners of
    pixels; a box covering pixels x0..x0+d-1 spans x0..x0+d). The Java ShapeImages uses the same
    geometry."""
    if shape == "square":
        return [(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d)]
    if shape == "triangle":
        return [(x0 + d / 2, y0), (x0 + d, y0 + d), (x0, y0 + d)]
    if shape == "star":
        # Outer radius d/2 around the box center, first point straight up; the star's lowest
        # points are at R*cos(36) below the center, so it is shifted down to sit centered in the box.
        r_out = d / 2
        r_in = r_out * STAR_INNER
        cx = x0 + d / 2
        cy = y0 + r_out + (d - r_out * (1 + math.cos(math.pi / 5))) / 2
        pts = []
        for k in range(10):
            r = r_out if k % 2 == 0 else r_in
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        return pts
    raise ValueError(shape)


def random_example(rng, small_bias=0.0):
    """(PIL image, color, shape, background) drawn under the task's rules. With probability
    small_bias the shape's box is drawn from the small end, [MIN_FRACTION, SMALL_FRACTION] of the
    shorter side: small shapes span few patches and are the last ones the model gets right."""
    w = rng.randint(MIN_SIDE, MAX_SIDE)
    h_lo = max(MIN_SIDE, math.ceil(w * 3 / 4))
    h_hi = min(MAX_SIDE, math.floor(w * 4 / 3))
    h = rng.randint(h_lo, h_hi)
    s = min(w, h)
    top = s
    if small_bias > 0 and rng.random() < small_bias:
        top = math.ceil(SMALL_FRACTION * s)
    d = rng.randint(math.ceil(MIN_FRACTION * s), top)
    ox, oy = (w - s) // 2, (h - s) // 2
    x0 = ox + rng.randint(0, s - d)
    y0 = oy + rng.randint(0, s - d)
    color = rng.choice(list(COLORS))
    shape = rng.choice(SHAPES)
    background = rng.choice(list(BACKGROUNDS))
    # Half plain (aliased) Pillow drawing, half supersampled (antialiased edges), so the model
    # tolerates both hard edges and the soft edges of an antialiasing renderer such as Java2D.
    ss = 1 if rng.random() < 0.5 else rng.choice([2, 3, 4])
    img = Image.new("RGB", (w * ss, h * ss), BACKGROUNDS[background])
    draw = ImageDraw.Draw(img)
    fill = COLORS[color]
    if shape == "circle":
        draw.ellipse([x0 * ss, y0 * ss, (x0 + d) * ss - 1, (y0 + d) * ss - 1], fill=fill)
    else:
        draw.polygon([(x * ss, y * ss) for x, y in shape_polygon(shape, x0, y0, d)], fill=fill)
    if ss > 1:
        img = img.resize((w, h), Image.BOX)
    return img, color, shape, background


# ---------------------------------------------------------------------------------------------
# Preprocessing: the Java ClipImageProcessor's steps with Pillow itself
# ---------------------------------------------------------------------------------------------
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def preprocess(img, size):
    w, h = img.size
    short, long_ = min(w, h), max(w, h)
    new_long = int(size * long_ / short)  # transformers' get_resize_output_image_size
    nw, nh = (size, new_long) if w <= h else (new_long, size)
    img = img.resize((nw, nh), Image.BICUBIC)
    top, left = (nh - size) // 2, (nw - size) // 2
    img = img.crop((left, top, left + size, top + size))
    a = np.asarray(img, dtype=np.float32) * np.float32(1 / 255)
    a = (a - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


# ---------------------------------------------------------------------------------------------
# Vocabulary and prompt layout (the chat template's output, split the way tokenizer.json splits)
# ---------------------------------------------------------------------------------------------
PAD, UNK, BOS, EOS, IMAGE = "<pad>", "<unk>", "<s>", "</s>", "<image>"
SPECIALS = [PAD, UNK, BOS, EOS]


def build_vocab():
    words = []
    for text in ["USER: ASSISTANT:"] + PROMPTS + [answer(0, c, s, b) for c in COLORS for s in SHAPES
                                                  for b in BACKGROUNDS]:
        for word in text.split():
            if word not in words:
                words.append(word)
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    for word in words:
        vocab[word] = len(vocab)
    vocab[IMAGE] = len(vocab)  # last, as LLaVA adds <image> after the text vocabulary
    return vocab


# LLaVA-1.5's prompt shape, the same template as the engine's TinyLlavaCheckpoint.
CHAT_TEMPLATE = ("{% for message in messages %}"
                 "{% if message['role'] == 'user' %}{{ 'USER: ' }}{% elif message['role'] == 'assistant' %}"
                 "{{ 'ASSISTANT: ' }}{% endif %}"
                 "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
                 "{% for item in message['content'] %}{% if item['type'] == 'image' %}{{ '<image>\\n' }}"
                 "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}{% endif %}"
                 "{% if message['role'] == 'assistant' %}{{ eos_token }}{% else %}{{ ' ' }}{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


def prompt_ids(vocab, prompt, image_tokens):
    """Token ids of the rendered chat prompt "USER: <image>\\n{prompt} ASSISTANT:" with <image>
    expanded, exactly as the Java MultimodalProcessor builds them (whitespace split, <image> an
    added token)."""
    ids = [vocab["USER:"]] + [vocab[IMAGE]] * image_tokens
    ids += [vocab[w] for w in prompt.split()]
    ids.append(vocab["ASSISTANT:"])
    return ids
