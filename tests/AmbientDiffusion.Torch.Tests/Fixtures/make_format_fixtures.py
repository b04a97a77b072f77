#!/usr/bin/python3
"""Generate the fixtures of the formats beyond 8-bit PNG and baseline JPEG, plus formats.json describing them.

Run:  /usr/bin/python3 tests/AmbientDiffusion.Torch.Tests/Fixtures/make_format_fixtures.py
Needs Pillow (Debian: python3-pil) for JPEG, WebP and GIF; the PNGs come from the minimal encoder in
make_image_fixtures.py, extended here to 16 bits and gray+alpha, so their expected pixels are exact.
Writes next to this script:
  rgb16_3x2.png          16-bit RGB PNG; pixels16 are the stored 16-bit samples
  gray16_3x2.png         16-bit gray PNG
  gray_alpha_3x2.png     8-bit gray+alpha PNG (stored as two channels)
  progressive_16x16.jpg  progressive RGB JPEG (q100, 4:4:4), four flat 8x8 blocks
  cmyk_16x16.jpg         CMYK JPEG (q100, Adobe marker), four flat 8x8 blocks with K = 0, so RGB = 255 - CMY
  lossless_4x3.webp      lossless RGBA WebP (exact: colour kept under alpha 0)
  lossy_16x16.webp       lossy RGB WebP (q100), four flat 8x8 blocks
  two_frames_4x3.gif     GIF with two frames; only the first is decoded
  formats.json
Lossy files record the intended block colours, the max per-channel error of Pillow's decoding against them, and
Pillow's decoded RGB pixels (libjpeg-turbo, libwebp): the independent decoding the tests compare Skia's with. For the
CMYK file those are Pillow's C, M, Y, K turned to RGB as (255 - C) (255 - K) / 255, rounded.
"""
import binascii
import json
import os
import struct
import zlib

from PIL import Image
import PIL

HERE = os.path.dirname(os.path.abspath(__file__))
GRAY, RGB, GRAY_ALPHA = 0, 2, 4
CHANNELS = {GRAY: 1, RGB: 3, GRAY_ALPHA: 2}


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", binascii.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(width, height, color_type, depth, samples):
    """samples: flat row-major HWC ints of the given bit depth (8 or 16); filter type 0, not interlaced."""
    ch = CHANNELS[color_type]
    assert len(samples) == width * height * ch and all(0 <= s < (1 << depth) for s in samples)
    fmt = ">%dH" if depth == 16 else "%dB"
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        raw.extend(struct.pack(fmt % (width * ch), *samples[y * width * ch:(y + 1) * width * ch]))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def flat(im):
    return [v for p in im.getdata() for v in ((p,) if isinstance(p, int) else p)]


def png_fixtures():
    entries = {}
    rgb16 = [0, 255, 65535, 257, 32768, 1000, 40000, 12345, 65280,
             128, 300, 65000, 9999, 50000, 32767, 65534, 1, 770]
    gray16 = [0, 65535, 32896, 128, 383, 60000]
    gray_alpha = [0, 255, 50, 0, 100, 128, 150, 200, 200, 1, 255, 77]
    for name, ct, depth, samples in [("rgb16_3x2.png", RGB, 16, rgb16), ("gray16_3x2.png", GRAY, 16, gray16),
                                     ("gray_alpha_3x2.png", GRAY_ALPHA, 8, gray_alpha)]:
        data = encode_png(3, 2, ct, depth, samples)
        open(os.path.join(HERE, name), "wb").write(data)
        entry = {"format": "png", "width": 3, "height": 2, "channels": CHANNELS[ct], "bit_depth": depth}
        entry["pixels16" if depth == 16 else "pixels"] = samples
        entries[name] = entry
    return entries


BLOCKS = {"top_left": [200, 30, 30], "top_right": [30, 200, 30],
          "bottom_left": [30, 30, 200], "bottom_right": [128, 128, 128]}
RECTS = {"top_left": [0, 0, 8, 8], "top_right": [8, 0, 8, 8], "bottom_left": [0, 8, 8, 8], "bottom_right": [8, 8, 8, 8]}


def block_pixels(colors):
    return [v for y in range(16) for x in range(16)
            for v in colors[("top" if y < 8 else "bottom") + "_" + ("left" if x < 8 else "right")]]


def measured_error(decoded, expected, ch):
    return [max(abs(decoded[i * ch + c] - expected[i * ch + c]) for i in range(len(expected) // ch)) for c in range(ch)]


def pillow_rgb(decoded, mode):
    if mode == "RGB":
        return decoded
    return [round((255 - decoded[4 * i + c]) * (255 - decoded[4 * i + 3]) / 255)
            for i in range(len(decoded) // 4) for c in range(3)]


def block_entry(fmt, path, decoded_mode, expected, note):
    im = Image.open(path)
    im.load()
    assert im.mode == decoded_mode and im.size == (16, 16), (path, im.mode, im.size)
    ch = len(decoded_mode)
    return {"pillow_rgb": pillow_rgb(flat(im), decoded_mode), "format": fmt, "width": 16, "height": 16, "channels": 3, "blocks": {
        k: {"rect_xywh": RECTS[k], "color": BLOCKS[k]} for k in BLOCKS},
        "measured_max_abs_error_per_channel": measured_error(flat(im), expected, ch),
        "measured_with": f"Pillow {PIL.__version__}, in mode {decoded_mode}", "note": note}


def lossy_fixtures():
    entries = {}
    rgb = block_pixels(BLOCKS)
    image = Image.frombytes("RGB", (16, 16), bytes(rgb))

    path = os.path.join(HERE, "progressive_16x16.jpg")
    image.save(path, "JPEG", quality=100, subsampling=0, progressive=True)
    assert Image.open(path).info.get("progressive") == 1
    entries["progressive_16x16.jpg"] = block_entry("jpeg", path, "RGB", rgb, "progressive, q100, 4:4:4")

    # K = 0 makes every CMYK-to-RGB conversion agree: R = 255 - C, G = 255 - M, B = 255 - Y.
    cmyk = [v for i in range(256) for v in (255 - rgb[3 * i], 255 - rgb[3 * i + 1], 255 - rgb[3 * i + 2], 0)]
    path = os.path.join(HERE, "cmyk_16x16.jpg")
    Image.frombytes("CMYK", (16, 16), bytes(cmyk)).save(path, "JPEG", quality=100, subsampling=0)
    entry = block_entry("jpeg", path, "CMYK", cmyk, "CMYK (Adobe, inverted), q100; error measured on C, M, Y, K")
    entry["measured_max_abs_error_per_channel"] = entry["measured_max_abs_error_per_channel"][:3]
    entries["cmyk_16x16.jpg"] = entry

    path = os.path.join(HERE, "lossy_16x16.webp")
    image.save(path, "WEBP", quality=100, lossless=False)
    entries["lossy_16x16.webp"] = block_entry("webp", path, "RGB", rgb, "lossy, q100 (4:2:0)")
    return entries


def lossless_fixtures():
    entries = {}
    rgba = [255, 0, 0, 255, 10, 20, 30, 0, 40, 80, 160, 128, 1, 254, 127, 200,
            0, 0, 0, 255, 255, 255, 255, 255, 90, 91, 92, 93, 200, 100, 50, 25,
            7, 77, 177, 255, 60, 120, 180, 240, 33, 66, 99, 1, 250, 5, 125, 254]
    path = os.path.join(HERE, "lossless_4x3.webp")
    Image.frombytes("RGBA", (4, 3), bytes(rgba)).save(path, "WEBP", lossless=True, exact=True, quality=100)
    back = Image.open(path)
    back.load()
    assert back.mode == "RGBA" and flat(back) == rgba
    entries["lossless_4x3.webp"] = {"format": "webp", "width": 4, "height": 3, "channels": 4, "pixels": rgba}

    palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250, 17, 34, 51]
    first = [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]
    second = [5] * 12
    frames = []
    for indices in (first, second):
        im = Image.frombytes("P", (4, 3), bytes(indices))
        im.putpalette(palette + [0] * (768 - len(palette)))
        frames.append(im)
    path = os.path.join(HERE, "two_frames_4x3.gif")
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, optimize=False)
    assert Image.open(path).n_frames == 2
    expected = [v for i in first for v in palette[3 * i:3 * i + 3]]
    back = Image.open(path).convert("RGB")
    assert flat(back) == expected
    entries["two_frames_4x3.gif"] = {"format": "gif", "width": 4, "height": 3, "channels": 3, "frames": 2,
                                     "pixels": expected, "note": "pixels of the first frame"}
    return entries


def main():
    images = {}
    images.update(png_fixtures())
    images.update(lossy_fixtures())
    images.update(lossless_fixtures())
    with open(os.path.join(HERE, "formats.json"), "w") as f:
        json.dump({"generator": "make_format_fixtures.py", "pixel_layout": "row-major, HWC (channel fastest)",
                   "images": images}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
