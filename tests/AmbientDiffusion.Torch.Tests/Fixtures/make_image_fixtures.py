#!/usr/bin/python3
"""Generate small image fixtures with known pixels, plus images.json describing them.

Run:  /usr/bin/python3 tests/AmbientDiffusion.Torch.Tests/Fixtures/make_image_fixtures.py
Writes next to this script:
  rgb_4x3.png    8-bit RGB,  pixel(x,y) = (x*60, y*100, 255 - x*40 - y*10)
  gray_5x2.png   8-bit gray, pixel(x,y) = x*50 + y*3
  rgba_2x2.png   8-bit RGBA, fixed values incl. alpha 0 and 128
  blocks_16x16.jpg  RGB JPEG (q100, 4:4:4), four flat 8x8 blocks     } only if a JPEG
  gray_16x8.jpg     gray JPEG (q100), two flat 8x8 blocks (50, 200)  } encoder exists
  images.json

PNGs are written by the minimal encoder below (zlib + crc32, filter type 0 on every
row, non-interlaced), so expected pixels are exact. JPEGs are lossy: images.json
records the intended flat block colours and the max per-channel absolute error
measured by decoding the files back (decoder named in the json).
"""
import binascii
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# PNG colour types
GRAY, RGB, RGBA = 0, 2, 6
CHANNELS = {GRAY: 1, RGB: 3, RGBA: 4}


def _chunk(tag, data):
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", binascii.crc32(tag + data) & 0xFFFFFFFF))


def encode_png(width, height, color_type, pixels):
    """pixels: flat list of ints, row-major HWC, 8-bit."""
    ch = CHANNELS[color_type]
    assert len(pixels) == width * height * ch
    assert all(0 <= p <= 255 for p in pixels)
    raw = bytearray()
    stride = width * ch
    for y in range(height):
        raw.append(0)  # filter type 0 (None)
        raw.extend(bytes(pixels[y * stride:(y + 1) * stride]))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + _chunk(b"IEND", b""))


def decode_png_minimal(data):
    """Decoder for exactly what encode_png emits (used for self-check)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == binascii.crc32(tag + body) & 0xFFFFFFFF, tag
        if tag == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ct = hdr[:4]
    ch = CHANNELS[ct]
    raw = zlib.decompress(idat)
    out = []
    for y in range(h):
        row = raw[y * (w * ch + 1):(y + 1) * (w * ch + 1)]
        assert row[0] == 0
        out.extend(row[1:])
    return w, h, ch, out


def png_fixtures():
    specs = []
    w, h = 4, 3
    px = []
    for y in range(h):
        for x in range(w):
            px += [x * 60, y * 100, 255 - x * 40 - y * 10]
    specs.append(("rgb_4x3.png", w, h, RGB, px, "(x*60, y*100, 255 - x*40 - y*10)"))

    w, h = 5, 2
    px = [x * 50 + y * 3 for y in range(h) for x in range(w)]
    specs.append(("gray_5x2.png", w, h, GRAY, px, "x*50 + y*3"))

    px = [255, 0, 0, 255,     10, 20, 30, 0,
          40, 80, 160, 128,   1, 254, 127, 200]
    specs.append(("rgba_2x2.png", 2, 2, RGBA, px, "fixed values"))

    entries = {}
    for name, w, h, ct, px, formula in specs:
        data = encode_png(w, h, ct, px)
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
        # self-check with own decoder, and with PIL if present
        dw, dh, dch, dpx = decode_png_minimal(data)
        assert (dw, dh, dch, list(dpx)) == (w, h, CHANNELS[ct], px), name
        try:
            from PIL import Image
            im = Image.open(os.path.join(HERE, name))
            im.load()
            assert im.size == (w, h) and im.mode == {GRAY: "L", RGB: "RGB", RGBA: "RGBA"}[ct]
            flat = [v for p in im.getdata() for v in ((p,) if isinstance(p, int) else p)]
            assert flat == px, name
        except ImportError:
            pass
        entries[name] = {"format": "png", "width": w, "height": h, "channels": CHANNELS[ct],
                         "bit_depth": 8, "formula": formula, "layout": "HWC row-major",
                         "pixels": px}
    return entries


# --------------------------------------------------------------------------
# JPEG
# --------------------------------------------------------------------------
RGB_BLOCKS = {"top_left": [200, 30, 30], "top_right": [30, 200, 30],
              "bottom_left": [30, 30, 200], "bottom_right": [128, 128, 128]}
GRAY_BLOCKS = {"left": [50], "right": [200]}


def rgb_block_image():
    w = h = 16
    px = []
    for y in range(h):
        for x in range(w):
            key = ("top" if y < 8 else "bottom") + "_" + ("left" if x < 8 else "right")
            px += RGB_BLOCKS[key]
    return w, h, 3, px


def gray_block_image():
    w, h = 16, 8
    px = [GRAY_BLOCKS["left" if x < 8 else "right"][0] for y in range(h) for x in range(w)]
    return w, h, 1, px


def write_pnm(path, w, h, ch, px):
    magic = b"P6" if ch == 3 else b"P5"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (w, h) + bytes(px))


def read_pnm(path):
    data = open(path, "rb").read()
    parts, pos = [], 0
    while len(parts) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        parts.append(data[start:pos])
    pos += 1
    ch = 3 if parts[0] == b"P6" else 1
    w, h = int(parts[1]), int(parts[2])
    return w, h, ch, list(data[pos:pos + w * h * ch])


def jpeg_backend():
    try:
        from PIL import Image, features  # noqa: F401
        import PIL
        if features.check_feature("libjpeg_turbo"):
            lib = f"libjpeg-turbo {features.version_feature('libjpeg_turbo')}"
        else:
            lib = f"libjpeg {features.version('jpg')}"
        return "pil", f"Pillow {PIL.__version__} ({lib})"
    except ImportError:
        pass
    if shutil.which("cjpeg") and shutil.which("djpeg"):
        return "cjpeg", "libjpeg-turbo cjpeg/djpeg"
    if shutil.which("convert"):
        # make sure it is real ImageMagick (a stub named `convert` may be on PATH)
        ver = subprocess.run(["convert", "-version"], capture_output=True, text=True)
        if ver.returncode == 0 and "ImageMagick" in ver.stdout:
            return "convert", ver.stdout.splitlines()[0].strip()
    return None, None


def encode_jpeg(backend, path, w, h, ch, px):
    if backend == "pil":
        from PIL import Image
        im = Image.frombytes("RGB" if ch == 3 else "L", (w, h), bytes(px))
        kw = {"quality": 100}
        if ch == 3:
            kw["subsampling"] = 0  # 4:4:4
        im.save(path, "JPEG", **kw)
        return
    with tempfile.TemporaryDirectory() as td:
        src = os.path.join(td, "in.ppm" if ch == 3 else "in.pgm")
        write_pnm(src, w, h, ch, px)
        if backend == "cjpeg":
            cmd = ["cjpeg", "-quality", "100", "-outfile", path]
            if ch == 3:
                cmd[1:1] = ["-sample", "1x1"]
            subprocess.run(cmd + [src], check=True)
        else:
            cmd = ["convert", src, "-quality", "100"]
            if ch == 3:
                cmd += ["-sampling-factor", "1x1"]
            subprocess.run(cmd + [path], check=True)


def decode_jpeg(backend, path):
    if backend == "pil":
        from PIL import Image
        im = Image.open(path)
        im.load()
        ch = {"L": 1, "RGB": 3}[im.mode]
        flat = [v for p in im.getdata() for v in ((p,) if isinstance(p, int) else p)]
        return im.size[0], im.size[1], ch, flat
    with tempfile.TemporaryDirectory() as td:
        out = os.path.join(td, "out.pnm")
        if backend == "cjpeg":
            subprocess.run(["djpeg", "-pnm", "-outfile", out, path], check=True)
        else:
            subprocess.run(["convert", path, out], check=True)
        return read_pnm(out)


def jpeg_fixtures():
    backend, desc = jpeg_backend()
    if backend is None:
        print("no JPEG encoder available; skipping JPEG fixtures")
        return {}
    entries = {}
    for name, (w, h, ch, px), blocks, layout in [
        ("blocks_16x16.jpg", rgb_block_image(), RGB_BLOCKS,
         {"top_left": [0, 0, 8, 8], "top_right": [8, 0, 8, 8],
          "bottom_left": [0, 8, 8, 8], "bottom_right": [8, 8, 8, 8]}),
        ("gray_16x8.jpg", gray_block_image(), GRAY_BLOCKS,
         {"left": [0, 0, 8, 8], "right": [8, 0, 8, 8]}),
    ]:
        path = os.path.join(HERE, name)
        encode_jpeg(backend, path, w, h, ch, px)
        dw, dh, dch, dpx = decode_jpeg(backend, path)
        assert (dw, dh, dch) == (w, h, ch), (name, dw, dh, dch)
        tol = [max(abs(dpx[i * ch + c] - px[i * ch + c]) for i in range(w * h)) for c in range(ch)]
        entries[name] = {
            "format": "jpeg", "width": w, "height": h, "channels": ch,
            "quality": 100, "chroma_subsampling": "4:4:4" if ch == 3 else None,
            "blocks": {k: {"rect_xywh": layout[k], "color": blocks[k]} for k in blocks},
            "measured_max_abs_error_per_channel": tol,
            "encoder": desc, "decoder": desc,
            "note": "lossy; tolerance measured by decoding back with the decoder named; "
                    "other decoders (IDCT/upsampling choices) may differ by a few more levels",
        }
    return entries


def main():
    entries = {}
    entries.update(png_fixtures())
    entries.update(jpeg_fixtures())
    doc = {"generator": "make_image_fixtures.py",
           "pixel_layout": "row-major, HWC (channel fastest), 8-bit unsigned",
           "images": entries}
    with open(os.path.join(HERE, "images.json"), "w") as f:
        text = json.dumps(doc, indent=1)
        # collapse arrays of numbers onto one line for readability
        import re
        text = re.sub(r"\[\s*([-0-9,\s]+?)\s*\]",
                      lambda m: "[" + ",".join(v.strip() for v in m.group(1).split(",")) + "]", text)
        f.write(text + "\n")
    for n, e in entries.items():
        extra = e.get("measured_max_abs_error_per_channel", "exact")
        print(f"{n}: {e['width']}x{e['height']}x{e['channels']} {extra} "
              f"({os.path.getsize(os.path.join(HERE, n))} bytes)")


if __name__ == "__main__":
    main()
