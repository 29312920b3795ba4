"""Text encodings of the files planners hand over.

Text (CSV/TSV/TXT, GeoJSON, the .dbf of a Shapefile) is decoded with ``encoding=``
when given, else in the order UTF-8 (with or without BOM; UTF-16 when it has a BOM)
-> GB18030 (a superset of GBK/GB2312, what Excel writes on a Chinese Windows) / Big5
-> the best guess of charset-normalizer. Split from :mod:`careplan.io._read`, which
re-exports these names.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from careplan._errors import InputError
from careplan.io._common import note, warn

ENCODINGS_TRIED = ("utf-8", "utf-8-sig", "utf-16 (with BOM)", "gb18030", "big5",
                   "charset-normalizer's guess")


# ----------------------------------------------------------------------------- encodings
def decode(data: bytes, what: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data``; return ``(text, encoding_used)``.

    Parameters
    ----------
    data : bytes
        Raw file content.
    what : str
        How messages name the source.
    encoding : str, optional
        Codec name (any Python codec: 'gbk', 'gb18030', 'big5', 'utf-16', ...). Default:
        try UTF-8 (BOM or not; UTF-16 with a BOM), then GB18030, then charset-normalizer.

    Returns
    -------
    tuple of (str, str)

    Raises
    ------
    InputError
        Unknown codec, bytes invalid in the given codec, or no encoding decodes the data
        (the message lists the encodings tried and how to choose one).
    """
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except LookupError as exc:
            raise InputError(
                f"{what}: unknown encoding {encoding!r}; use a codec name such as 'utf-8', "
                "'gb18030' (also reads GBK/GB2312), 'big5' or 'utf-16'."
            ) from exc
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{what}: not valid {encoding} (byte {exc.start}: {data[exc.start:exc.start + 4]!r}); "
                "choose another encoding= ('utf-8', 'gb18030', 'big5', ...) or omit it to detect "
                "the encoding."
            ) from exc
        return text.lstrip("\ufeff"), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    elif (bom_less := _utf16_without_bom(data)) is not None:
        candidates = (bom_less,)
    else:
        candidates = ("utf-8", _chinese_legacy(data))
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text.lstrip("\ufeff"), enc
    guess = _detect(data)
    if guess is not None:
        return guess
    if b"\x00" in data and candidates[0] == "utf-8":
        try:
            line = data.decode("utf-8").count("\n", 0, data.index(b"\x00")) + 1
        except UnicodeDecodeError:
            line = None
        if line is not None:
            raise InputError(
                f"{what}: the text holds a NUL character (line {line}); it is binary data or "
                "text in UTF-16/UTF-32: pass encoding= (e.g. 'utf-16-le'), or remove the NUL."
            )
    raise InputError(
        f"{what}: cannot decode the text; tried {', '.join(ENCODINGS_TRIED)}. Pass encoding= "
        "with the file's encoding (in a careplan config: encoding = \"...\" for that input), "
        "or save the file as UTF-8 (Excel: 'CSV UTF-8')."
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the bytes look like UTF-16 text without a BOM: most
    characters of a table are ASCII, so every other byte is NUL."""
    n = min(len(data), 4096) // 2 * 2
    if n < 8:
        return None
    head = data[:n]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    for share, other, enc in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if share >= 0.6 * (n // 2) and other <= 0.05 * (n // 2):
            try:
                data.decode(enc)
            except UnicodeDecodeError:
                return None
            return enc
    return None


def _chinese_legacy(data: bytes) -> str:
    """GB18030 (GBK) or Big5 for bytes that are not UTF-8.

    Nearly every Big5 byte sequence is also valid GB18030 (and reads as nonsense), so when
    both decode, charset-normalizer chooses between the two (it tells them apart by which
    reading is coherent text).
    """
    def ok(enc: str) -> bool:
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            return False
        return True

    if not ok("big5"):
        return "gb18030"
    if not ok("gb18030"):
        return "big5"
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5"]).best()
    return "big5" if best is not None and best.encoding == "big5" else "gb18030"


def _detect(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return (None if "\x00" in text else (text, best.encoding))


def _report_encoding(gdf: gpd.GeoDataFrame, what: str, enc: str | None, given: bool) -> None:
    if enc is None:
        return
    note(gdf, "encoding", enc)
    if not given and enc not in ("utf-8", "utf-8-sig", "ascii"):
        warn(f"{what}: text is not UTF-8; read as {enc} (detected). Pass encoding= to choose.")


def _dbf_encoding(path: Path, what: str, encoding: str | None) -> tuple[str | None, bool]:
    """Encoding to read a Shapefile's .dbf with; (None, False) lets GDAL decide."""
    if encoding is not None:
        return encoding, True
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None, False
    raw = dbf.read_bytes()
    body = _dbf_text(raw)
    cpg = next((p for p in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if p.exists()), None)
    declared = cpg.read_text(encoding="ascii", errors="replace").strip() if cpg else None
    if declared:
        try:
            body.decode(_codec(declared))
            return None, False  # the .cpg is right: GDAL reads it
        except (UnicodeDecodeError, LookupError):
            pass
    elif len(raw) > 29 and raw[29] != 0:
        return None, False  # language driver id set: GDAL maps it
    if all(b < 0x80 for b in body):
        return None, False
    _, enc = decode(body, what)
    if declared:
        warn(f"{what}: {path.name}'s .cpg declares {declared!r} but the text is not {declared}; "
             f"read as {enc}. Pass encoding= to choose.")
    return enc, False


def _dbf_text(raw: bytes) -> bytes:
    """The text bytes of a .dbf (field names and character fields), newline-separated.

    DBF layout (dBASE III): header length at bytes 8-9 and record length at 10-11
    (little-endian); 32-byte field descriptors from byte 32 (name: 11 bytes, NUL-padded;
    type at 11; length at 16) up to a 0x0D; records start at the header length, each
    with a one-byte deletion flag.
    """
    if len(raw) < 32:
        return b""
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    fields = []
    pos = 32
    while pos + 32 <= min(header_len, len(raw)) and raw[pos] != 0x0D:
        desc = raw[pos:pos + 32]
        fields.append((desc[:11].split(b"\0")[0], chr(desc[11]), desc[16]))
        pos += 32
    parts = [name for name, _, _ in fields]
    if record_len > 0:
        for start in range(header_len, len(raw) - record_len + 1, record_len):
            off = start + 1
            for _, ftype, flen in fields:
                if ftype in "CM":
                    parts.append(raw[off:off + flen].rstrip(b" \0"))
                off += flen
    return b"\n".join(parts)


def _codec(name: str) -> str:
    name = name.strip().lower()
    if name.isdigit():
        return {"936": "gbk", "950": "big5", "65001": "utf-8", "1252": "cp1252"}.get(name, "cp" + name)
    return {"utf8": "utf-8"}.get(name, name)
