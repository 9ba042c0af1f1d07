#!/usr/bin/env python3
"""Regenerates the image goldens in this folder (tests/golden/images/).

Run from anywhere: python3 tests/golden/images/generate.py
Needs python3 and ImageMagick 6 (`convert`).  The output is committed; this
script documents how each file was made.  Files:

  ok-*          valid images that must decode (test_image.c checks sizes)
  png/*.png     PNG colour types and depths written here with a tiny PNG
                writer; png/*.expect.pnm holds the pixels we must get
                (alpha dropped, 16 -> 8 bits rounded, palette expanded)
  bmp/*.bmp     BMP variants; bmp/*.expect.pnm is ImageMagick's decode
  pnm/*.p?m     Netpbm variants; pnm/*.expect.pnm the pixels we must get
  bad-*         malformed inputs, each with an expected error code in the
                table in tests/unit/test_image.c
"""
import os, struct, subprocess, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)
for d in ("png", "bmp", "pnm"):
    os.makedirs(d, exist_ok=True)


def sh(*args):
    subprocess.run(args, check=True)


def write(name, data):
    with open(name, "wb") as f:
        f.write(data)


def pnm(w, h, ch, pix):
    """8-bit P5/P6 from a flat list of samples."""
    return b"P%d\n%d %d\n255\n" % (5 if ch == 1 else 6, w, h) + bytes(pix)


# ---------------------------------------------------------------- PNG writer
def chunk(typ, body):
    c = struct.pack(">I", len(body)) + typ + body
    return c + struct.pack(">I", zlib.crc32(typ + body) & 0xFFFFFFFF)


def png(w, h, depth, ctype, rows, plte=None, trns=None, interlace=0, extra=b""):
    """rows: list of lists of samples (already in file order, unpacked)."""
    def pack_row(r):
        if depth == 16:
            return b"".join(struct.pack(">H", v) for v in r)
        if depth == 8:
            return bytes(r)
        out, acc, n = bytearray(), 0, 0
        for v in r:
            acc = (acc << depth) | v
            n += depth
            if n == 8:
                out.append(acc)
                acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        return bytes(out)

    spp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    if interlace:
        # Adam7: 7 sub-images
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        raw = b""
        for x0, y0, dx, dy in passes:
            for y in range(y0, h, dy):
                sub = []
                for x in range(x0, w, dx):
                    sub.extend(rows[y][x * spp:(x + 1) * spp])
                if sub:
                    raw += b"\0" + pack_row(sub)
    else:
        raw = b"".join(b"\0" + pack_row(r) for r in rows)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))
    data += extra
    if plte is not None:
        data += chunk(b"PLTE", bytes(sum(plte, [])))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return data


def s8(v, depth):
    """Sample of `depth` bits to 8 bits as libpng does it: bit replication
    for 1/2/4 (exact: v*255/max), rounding for 16."""
    if depth == 16:
        return (v * 255 + 32767) // 65535
    return v * 255 // ((1 << depth) - 1)


W, H = 9, 7
for depth in (1, 2, 4, 8, 16):
    m = (1 << depth) - 1
    rows = [[(x * 7 + y * 13 + x * y * 5) % (m + 1) for x in range(W)] for y in range(H)]
    write("png/grey%d.png" % depth, png(W, H, depth, 0, rows))
    write("png/grey%d.expect.pnm" % depth, pnm(W, H, 1, [s8(v, depth) for r in rows for v in r]))
    # palette (depth <= 8) with tRNS: colours kept, alpha dropped
    if depth <= 8:
        n = m + 1
        plte = [[(i * 37) % 256, (i * 91 + 5) % 256, (255 - i * 11) % 256] for i in range(n)]
        trns = bytes((i * 50) % 256 for i in range(n))
        write("png/pal%d.png" % depth, png(W, H, depth, 3, rows, plte=plte, trns=trns))
        write("png/pal%d.expect.pnm" % depth, pnm(W, H, 3, [c for r in rows for v in r for c in plte[v]]))
for depth in (8, 16):
    m = (1 << depth) - 1
    def val(x, y, c):
        return ((x * 2654435761 + y * 40503 + c * 977) >> 3) % (m + 1)
    rgb = [[val(x, y, c) for x in range(W) for c in range(3)] for y in range(H)]
    rgba = [[val(x, y, c) for x in range(W) for c in range(4)] for y in range(H)]
    ga = [[val(x, y, c) for x in range(W) for c in range(2)] for y in range(H)]
    write("png/rgb%d.png" % depth, png(W, H, depth, 2, rgb))
    write("png/rgb%d.expect.pnm" % depth, pnm(W, H, 3, [s8(v, depth) for r in rgb for v in r]))
    write("png/rgba%d.png" % depth, png(W, H, depth, 6, rgba))
    write("png/rgba%d.expect.pnm" % depth,
          pnm(W, H, 3, [s8(r[i], depth) for r in rgba for i in range(len(r)) if i % 4 != 3]))
    write("png/greyalpha%d.png" % depth, png(W, H, depth, 4, ga))
    write("png/greyalpha%d.expect.pnm" % depth,
          pnm(W, H, 1, [s8(r[i], depth) for r in ga for i in range(0, len(r), 2)]))
    write("png/rgb%d-interlaced.png" % depth, png(W, H, depth, 2, rgb, interlace=1))
    write("png/rgb%d-interlaced.expect.pnm" % depth, pnm(W, H, 3, [s8(v, depth) for r in rgb for v in r]))
# grey with tRNS: still one channel
rows = [[(x * 31 + y * 17) % 256 for x in range(W)] for y in range(H)]
write("png/grey8-trns.png", png(W, H, 8, 0, rows, trns=struct.pack(">H", rows[0][0])))
write("png/grey8-trns.expect.pnm", pnm(W, H, 1, [v for r in rows for v in r]))

# ---------------------------------------------------------------- sources
sh("convert", "-size", "7x5", "gradient:red-blue", "-fill", "#20ff40", "-draw", "point 0,0",
   "-fill", "white", "-draw", "point 6,0", "-strip", "src-7x5.ppm")
sh("convert", "-size", "64x48", "plasma:fractal", "-seed", "7", "-strip", "src-64x48.ppm") if False else None
# A deterministic noisy 64x48 image (plasma is random): python-made.
pix = []
for y in range(48):
    for x in range(64):
        pix += [(x * 4 + y * 3) % 256, (x * y * 7 + 11) % 256, (255 - x * 3 + y * 5) % 256]
write("src-64x48.ppm", pnm(64, 48, 3, pix))

# ---------------------------------------------------------------- ok-*
sh("convert", "-size", "1x1", "xc:#336699", "-strip", "ok-1x1.png")
sh("convert", "-size", "1x1", "xc:#336699", "-strip", "-quality", "90", "ok-1x1.jpg")
sh("convert", "-size", "1x1", "xc:#336699", "ok-1x1.gif")
sh("convert", "-size", "1x1", "xc:#336699", "bmp3:ok-1x1.bmp")
sh("convert", "-size", "1x1", "xc:#336699", "-define", "webp:lossless=true", "ok-1x1.webp")
write("ok-1x1.ppm", b"P6\n1 1\n255\n\x33\x66\x99")
sh("convert", "src-7x5.ppm", "-strip", "-quality", "95", "-sampling-factor", "1x1", "ok-7x5.jpg")
sh("convert", "src-7x5.ppm", "-strip", "ok-7x5.png")
sh("convert", "src-7x5.ppm", "-strip", "-define", "webp:lossless=false", "-quality", "90", "ok-7x5.webp")
sh("convert", "src-7x5.ppm", "-strip", "-colorspace", "Gray", "-quality", "95", "ok-7x5-grey.jpg")
sh("convert", "-delay", "10", "-size", "4x3", "xc:red", "xc:blue", "-loop", "0", "ok-anim-4x3.gif")
sh("convert", "src-7x5.ppm", "-interlace", "GIF", "ok-7x5-interlaced.gif")
sh("convert", "src-64x48.ppm", "-strip", "-interlace", "JPEG", "-quality", "90", "ok-64x48-progressive.jpg")

# CMYK JPEG whose raw samples cover nearly every (colour, black) pair, so the
# CMYK->RGB formula is checked where rounding is delicate.
raw = bytearray()
for y in range(256):
    for x in range(256):
        raw += bytes([x, 255 - x, (x * 3 + y) % 256, y])
write("cmyk.raw", bytes(raw))
sh("convert", "-size", "256x256", "-depth", "8", "cmyk:cmyk.raw", "-quality", "100", "-sampling-factor", "1x1",
   "-strip", "ok-cmyk-256.jpg")
os.remove("cmyk.raw")

# ---------------------------------------------------------------- BMP variants
src = "src-7x5.ppm"
sh("convert", src, "bmp3:bmp/rgb24.bmp")
sh("convert", src, "-alpha", "on", "-channel", "A", "-fx", "0.5", "+channel", "bmp:bmp/bitfields32.bmp")
sh("convert", src, "-define", "bmp:subtype=RGB565", "bmp:bmp/rgb565.bmp")
sh("convert", src, "-define", "bmp:subtype=RGB555", "bmp:bmp/rgb555.bmp")
sh("convert", "src-64x48.ppm", "-colors", "200", "-type", "Palette", "-compress", "None", "bmp3:bmp/pal8.bmp")
sh("convert", src, "-colors", "12", "-type", "Palette", "bmp3:bmp/pal4.bmp")
sh("convert", src, "-monochrome", "bmp3:bmp/pal1.bmp")
sh("convert", src, "-colors", "12", "-type", "Palette", "-compress", "RLE", "bmp3:bad-rle8.bmp")
for f in sorted(os.listdir("bmp")):
    if f.endswith(".bmp"):
        sh("convert", "bmp/" + f, "-alpha", "off", "-type", "TrueColor", "-depth", "8",
           "ppm:bmp/" + f[:-4] + ".expect.pnm")
# top-down: negate the height of the 24-bit file and reverse its rows
b = bytearray(open("bmp/rgb24.bmp", "rb").read())
off, w, h = struct.unpack_from("<I", b, 10)[0], struct.unpack_from("<i", b, 18)[0], struct.unpack_from("<i", b, 22)[0]
stride = (w * 3 + 3) // 4 * 4
rows = [bytes(b[off + i * stride: off + (i + 1) * stride]) for i in range(h)]
b[off:off + stride * h] = b"".join(reversed(rows))
struct.pack_into("<i", b, 22, -h)
write("bmp/rgb24-topdown.bmp", bytes(b))
write("bmp/rgb24-topdown.expect.pnm", open("bmp/rgb24.expect.pnm", "rb").read())
# OS/2 core header, 24-bit
core = struct.pack("<IHHHH", 12, w, h, 1, 24)
pixels = bytes(b[off:off + stride * h][::-1]) if False else b"".join(rows)
write("bmp/core24.bmp", b"BM" + struct.pack("<IHHI", 14 + 12 + len(pixels), 0, 0, 26) + core + pixels)
write("bmp/core24.expect.pnm", open("bmp/rgb24.expect.pnm", "rb").read())

# 32-bit BI_RGB (B, G, R, unused) and 16-bit BI_BITFIELDS after a 40-byte
# header (masks follow the header), both from the 24-bit file
px32, px16 = b"", b""
for r in rows:
    for x in range(w):
        B, G, R = r[3 * x], r[3 * x + 1], r[3 * x + 2]
        px32 += bytes([B, G, R, 0x7F])
        px16 += struct.pack("<H", (R >> 3) << 11 | (G >> 2) << 5 | (B >> 3))
    px16 += b"\0\0" * ((-w) % 2)
hdr = lambda bpp, comp, extra, n: (b"BM" + struct.pack("<IHHI", 54 + len(extra) + n, 0, 0, 54 + len(extra)) +
                                   struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, comp, n, 0, 0, 0, 0) + extra)
write("bmp/rgb32.bmp", hdr(32, 0, b"", len(px32)) + px32)
write("bmp/rgb32.expect.pnm", open("bmp/rgb24.expect.pnm", "rb").read())
write("bmp/bitfields16-v3.bmp", hdr(16, 3, struct.pack("<III", 0xF800, 0x07E0, 0x001F), len(px16)) + px16)
e = []
for r in reversed(rows):
    for x in range(w):
        B, G, R = r[3 * x], r[3 * x + 1], r[3 * x + 2]
        # widening by bit replication, as ImageMagick does
        e += [(R >> 3) << 3 | (R >> 5), (G >> 2) << 2 | (G >> 6), (B >> 3) << 3 | (B >> 5)]
write("bmp/bitfields16-v3.expect.pnm", pnm(w, h, 3, e))

# ---------------------------------------------------------------- PNM variants
pw, ph = 5, 4
g = [(x * 50 + y * 13) % 256 for y in range(ph) for x in range(pw)]
c = [(i * 37) % 256 for i in range(pw * ph * 3)]
bits = [((x + y) % 3 == 0) * 1 for y in range(ph) for x in range(pw)]
write("pnm/p1.pbm", b"P1\n# a comment\n%d %d\n" % (pw, ph) +
      b"\n".join(b"".join(b"%d" % bits[y * pw + x] for x in range(pw)) for y in range(ph)) + b"\n")
p4 = b""
for y in range(ph):
    acc = 0
    for x in range(pw):
        acc |= bits[y * pw + x] << (7 - x)
    p4 += bytes([acc])
write("pnm/p4.pbm", b"P4\n%d %d\n" % (pw, ph) + p4)
for n in ("p1", "p4"):
    write("pnm/%s.expect.pnm" % n, pnm(pw, ph, 1, [0 if v else 255 for v in bits]))
write("pnm/p2.pgm", b"P2\n%d %d\n255\n" % (pw, ph) + b" ".join(b"%d" % v for v in g) + b"\n")
write("pnm/p5.pgm", b"P5\n%d %d\n255\n" % (pw, ph) + bytes(g))
write("pnm/p3.ppm", b"P3 %d %d 255\n" % (pw, ph) + b"\n".join(b"%d" % v for v in c) + b"\n")
write("pnm/p6.ppm", b"P6\n%d\n%d\n255\n" % (pw, ph) + bytes(c))
for n in ("p2", "p5"):
    write("pnm/%s.expect.pnm" % n, pnm(pw, ph, 1, g))
for n in ("p3", "p6"):
    write("pnm/%s.expect.pnm" % n, pnm(pw, ph, 3, c))
c16 = [(i * 40503 + 17) % 65536 for i in range(pw * ph * 3)]
write("pnm/p6-16bit.ppm", b"P6\n%d %d\n65535\n" % (pw, ph) + b"".join(struct.pack(">H", v) for v in c16))
write("pnm/p6-16bit.expect.pnm", pnm(pw, ph, 3, [(v * 255 + 32767) // 65535 for v in c16]))
g1000 = [(x * 211 + y * 97) % 1001 for y in range(ph) for x in range(pw)]
write("pnm/p2-max1000.pgm", b"P2\n%d %d\n1000\n" % (pw, ph) + b" ".join(b"%d" % v for v in g1000) + b"\n")
write("pnm/p2-max1000.expect.pnm", pnm(pw, ph, 1, [(v * 255 + 500) // 1000 for v in g1000]))
g15 = [(x * 3 + y * 5) % 16 for y in range(ph) for x in range(pw)]
write("pnm/p5-max15.pgm", b"P5\n%d %d\n15\n" % (pw, ph) + bytes(g15))
write("pnm/p5-max15.expect.pnm", pnm(pw, ph, 1, [(v * 255 + 7) // 15 for v in g15]))

# ---------------------------------------------------------------- bad-*
full = open("ok-64x48-progressive.jpg", "rb").read()
write("bad-truncated-progressive.jpg", full[:len(full) * 6 // 10])
sh("convert", "src-64x48.ppm", "-strip", "-quality", "90", "src-64x48.jpg")
full = open("src-64x48.jpg", "rb").read()
write("bad-truncated.jpg", full[:len(full) * 6 // 10])
os.remove("src-64x48.jpg")
sh("convert", "src-64x48.ppm", "-strip", "src-64x48.png")
full = open("src-64x48.png", "rb").read()
write("bad-truncated.png", full[:len(full) // 2])
bad = bytearray(full)
bad[len(bad) // 2] ^= 0x55                      # inside IDAT: CRC mismatch
write("bad-crc.png", bytes(bad))
os.remove("src-64x48.png")
sh("convert", "src-64x48.ppm", "src-64x48.gif")
full = open("src-64x48.gif", "rb").read()
write("bad-truncated.gif", full[:len(full) // 2])
os.remove("src-64x48.gif")
sh("convert", "src-64x48.ppm", "-define", "webp:lossless=false", "src-64x48.webp")
full = open("src-64x48.webp", "rb").read()
write("bad-truncated.webp", full[:len(full) // 2])
os.remove("src-64x48.webp")
full = open("bmp/rgb24.bmp", "rb").read()
write("bad-truncated.bmp", full[:len(full) - 7])
write("bad-truncated.ppm", open("src-64x48.ppm", "rb").read()[:3000])
write("bad-huge-100000x100000.png",
      b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) +
      chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
write("bad-zero-width.png",
      b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 2, 0, 0, 0)) +
      chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
j = bytearray(open("ok-7x5.jpg", "rb").read())
i = j.find(b"\xff\xc0")
struct.pack_into(">H", j, i + 5, 0)              # SOF0 height := 0
write("bad-zero-height.jpg", bytes(j))
j = bytearray(open("ok-7x5.jpg", "rb").read())
i = j.find(b"\xff\xc0")
j[i + 1] = 0xC1                                  # SOF1 (extended sequential)
j[i + 4] = 12                                    # 12-bit samples
write("bad-12bit.jpg", bytes(j))
write("bad-huge.pgm", b"P5\n100000 100000\n255\n" + b"\0" * 16)
write("bad-zero.ppm", b"P6\n0 5\n255\n")
write("bad-over-maxval.pgm", b"P2\n2 1\n10\n3 11\n")
write("bad-pam.pam", b"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n\0")
write("bad-empty.bin", b"")
write("bad-text.txt", b"This is a text file, not an image.\n")
# BMP whose header claims 5000x5000 24-bit but holds 64 bytes of pixels
write("bad-lying-size.bmp", b"BM" + struct.pack("<IHHI", 5000 * 15000, 0, 0, 54) +
      struct.pack("<IiiHHIIiiII", 40, 5000, 5000, 1, 24, 0, 0, 2835, 2835, 0, 0) + b"\x80" * 64)
# BMP whose pixel offset points past the end
b = bytearray(open("bmp/rgb24.bmp", "rb").read())
struct.pack_into("<I", b, 10, 1 << 30)
write("bad-lying-offset.bmp", bytes(b))
write("bad-huge.bmp", b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) +
      struct.pack("<IiiHHIIiiII", 40, 100000, -100000, 1, 24, 0, 0, 0, 0, 0, 0))
# GIF: screen descriptor, global colour table, trailer; no image
write("bad-no-frames.gif", b"GIF89a" + struct.pack("<HHBBB", 4, 4, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff" + b";")
os.remove("src-7x5.ppm")
os.remove("src-64x48.ppm")
