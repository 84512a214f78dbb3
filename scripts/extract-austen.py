#!/usr/bin/env python3
"""Extract Jane Austen's six novels from the Debian package r-cran-janeaustenr.

Usage: extract-austen.py OUTDIR

The package stores its data as an R lazy-load database: data/Rdata.rdx (a
gzip'd R serialization of a list mapping each variable to an offset/length)
and data/Rdata.rdb (per variable: a 4-byte big-endian length and a zlib
stream holding an R serialization of a character vector). This is a minimal,
stdlib-only decoder for the subset of R's XDR serialization those files use
(no R needed). Writes OUTDIR/<novel>.txt, one R string per line, UTF-8;
the output is byte-identical to R's paste(x, collapse="\n") plus a newline.
"""
import os
import bz2
import gzip
import lzma
import struct
import sys
import zlib

NOVELS = ["emma", "mansfieldpark", "northangerabbey", "persuasion",
          "prideprejudice", "sensesensibility"]
CANDIDATE_DIRS = ["/usr/lib/R/site-library/janeaustenr/data",
                  "/usr/local/lib/R/site-library/janeaustenr/data",
                  "/usr/lib/R/library/janeaustenr/data"]

# SEXP types and pseudo-types used by R's serialize.c.
NILSXP, SYMSXP, LISTSXP, CLOSXP, ENVSXP = 0, 1, 2, 3, 4
LANGSXP, CHARSXP, LGLSXP, INTSXP, REALSXP, CPLXSXP, STRSXP, VECSXP = 6, 9, 10, 13, 14, 15, 16, 19
REFSXP, NILVALUE_SXP, GLOBALENV_SXP, UNBOUNDVALUE_SXP = 255, 254, 253, 252
MISSINGARG_SXP, BASENAMESPACE_SXP, EMPTYENV_SXP, BASEENV_SXP = 251, 247, 242, 241
ALTREP_SXP, ATTRLISTSXP, ATTRLANGSXP = 238, 239, 240
NA_INT = -2147483648


class RFormatError(Exception):
    pass


class RList:
    """A decoded VECSXP/pairlist with its attributes (names, class...)."""

    def __init__(self, items, attrs=None):
        self.items = items
        self.attrs = attrs or {}

    def named(self):
        names = self.attrs.get("names")
        if names is None or len(names) != len(self.items):
            raise RFormatError("list has no usable names attribute")
        return dict(zip(names, self.items))


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.refs = []

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise RFormatError(f"truncated serialization: need {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def header(self):
        magic = self.take(2)
        if magic != b"X\n":
            raise RFormatError(f"unsupported serialization format {magic!r} (only XDR 'X\\n')")
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader R version
        if version == 3:
            self.take(self.int())  # native encoding name
        elif version != 2:
            raise RFormatError(f"unsupported serialization version {version}")

    def item(self):
        flags = self.int()
        sxptype = flags & 0xFF
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if sxptype == NILVALUE_SXP:
            return None
        if sxptype in (GLOBALENV_SXP, UNBOUNDVALUE_SXP, MISSINGARG_SXP,
                       BASENAMESPACE_SXP, EMPTYENV_SXP, BASEENV_SXP):
            return None
        if sxptype == REFSXP:
            index = flags >> 8 or self.int()
            if not 1 <= index <= len(self.refs):
                raise RFormatError(f"bad reference index {index}")
            return self.refs[index - 1]
        if sxptype == SYMSXP:
            name = self.item()  # a CHARSXP
            self.refs.append(name)
            return name
        if sxptype in (LISTSXP, LANGSXP, ATTRLISTSXP, ATTRLANGSXP):
            return self.pairlist(flags)
        if sxptype == CHARSXP:
            length = self.int()
            if length == -1:
                return None  # NA_character_
            raw = self.take(length)
            # Bit 3 of the levels (flags >> 12) marks Latin-1; everything else
            # here is UTF-8 or ASCII.
            levels = flags >> 12
            return raw.decode("latin-1" if levels & 4 else "utf-8")
        if sxptype in (STRSXP, VECSXP, LGLSXP, INTSXP, REALSXP):
            length = self.length()
            if sxptype == STRSXP:
                value = [self.item() for _ in range(length)]
            elif sxptype == VECSXP:
                value = RList([self.item() for _ in range(length)])
            elif sxptype == REALSXP:
                value = list(struct.unpack(f">{length}d", self.take(8 * length)))
            else:
                value = [None if v == NA_INT else v
                         for v in struct.unpack(f">{length}i", self.take(4 * length))]
            if has_attr:
                attrs = self.attributes()
                if isinstance(value, RList):
                    value.attrs = attrs
            return value
        raise RFormatError(f"unsupported SEXP type {sxptype} (has_tag={has_tag})")

    def length(self):
        length = self.int()
        if length == -1:  # long vector: two more ints
            upper, lower = self.int(), self.int()
            length = (upper << 32) | lower
        if length < 0 or length > len(self.data):
            raise RFormatError(f"implausible vector length {length}")
        return length

    def pairlist(self, flags):
        """Reads a pairlist iteratively (they can be long); returns {tag: value}."""
        result = RList([], {})
        names = []
        while True:
            sxptype = flags & 0xFF
            if sxptype == NILVALUE_SXP:
                break
            if sxptype not in (LISTSXP, LANGSXP, ATTRLISTSXP, ATTRLANGSXP):
                raise RFormatError(f"pairlist continues with SEXP type {sxptype}")
            if flags & (1 << 9):
                self.attributes()
            tag = self.item() if flags & (1 << 10) else None
            result.items.append(self.item())
            names.append(tag)
            flags = self.int()
        result.attrs["names"] = names
        return result

    def attributes(self):
        attrs = self.item()
        if isinstance(attrs, RList):
            return dict(zip(attrs.attrs.get("names", []), attrs.items))
        return {}


def decompress(blob, what):
    """Undoes R's compression of one serialized object.

    Lazy-load DB entries are a 4-byte big-endian uncompressed length, then
    either a bare zlib stream (compress=TRUE) or a type byte ('Z' zlib,
    '2' bzip2, 'X' xz, '0' stored) and the stream. Whole .rds-style files
    (R >= 3.x writes Rdata.rdx this way) are plain gzip.
    """
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if len(blob) < 5:
        raise RFormatError(f"{what}: too short for a compressed entry")
    expected = struct.unpack(">I", blob[:4])[0]
    body, kind = blob[4:], blob[4:5]
    try:
        if kind == b"Z":
            data = zlib.decompress(body[1:])
        elif kind == b"2":
            data = bz2.decompress(body[1:])
        elif kind == b"X":
            data = lzma.decompress(body[1:])
        elif kind == b"0":
            data = body[1:]
        else:
            data = zlib.decompress(body)
    except (zlib.error, OSError, lzma.LZMAError) as exc:
        raise RFormatError(f"{what}: cannot decompress ({exc})")
    if len(data) != expected:
        raise RFormatError(f"{what}: decompressed {len(data)} bytes, header says {expected}")
    return data


def unserialize(blob, what):
    reader = Reader(decompress(blob, what))
    reader.header()
    return reader.item()


def find_data_dir():
    for d in CANDIDATE_DIRS:
        if os.path.isfile(os.path.join(d, "Rdata.rdx")) and os.path.isfile(os.path.join(d, "Rdata.rdb")):
            return d
    sys.exit("extract-austen: janeaustenr data not found (looked in "
             + ", ".join(CANDIDATE_DIRS)
             + "). Install it with: apt-get install r-cran-janeaustenr")


def extract(data_dir, outdir):
    with open(os.path.join(data_dir, "Rdata.rdx"), "rb") as f:
        index = unserialize(f.read(), "Rdata.rdx").named()
    variables = index["variables"].named()
    with open(os.path.join(data_dir, "Rdata.rdb"), "rb") as f:
        rdb = f.read()
    os.makedirs(outdir, exist_ok=True)
    for name in NOVELS:
        if name not in variables:
            raise RFormatError(f"Rdata.rdx has no variable '{name}' (has: {sorted(variables)})")
        offset, length = (int(v) for v in variables[name])
        if offset < 0 or length < 0 or offset + length > len(rdb):
            raise RFormatError(f"{name}: entry [{offset}, +{length}) outside Rdata.rdb ({len(rdb)} bytes)")
        lines = unserialize(rdb[offset:offset + length], f"Rdata.rdb[{name}]")
        if not isinstance(lines, list) or not all(s is None or isinstance(s, str) for s in lines):
            raise RFormatError(f"{name}: expected a character vector")
        text = "\n".join("" if s is None else s for s in lines) + "\n"
        tmp = os.path.join(outdir, name + ".txt.part")
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, os.path.join(outdir, name + ".txt"))
        print(f"extract-austen: {name}.txt {len(lines)} lines, {len(text)} chars", file=sys.stderr)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: extract-austen.py OUTDIR")
    try:
        extract(find_data_dir(), sys.argv[1])
    except (RFormatError, KeyError, OSError) as exc:
        sys.exit(f"extract-austen: {exc}")


if __name__ == "__main__":
    main()
