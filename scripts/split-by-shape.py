#!/usr/bin/env python3
"""Split a tar (or .tar.gz) of messages by shape, for timing each shape alone.

    scripts/split-by-shape.py INPUT OUTDIR

Writes OUTDIR/text.tar (every leaf MIME part is text/* or message/*),
OUTDIR/pdf.tar (a part is a PDF by its type or its file name) and
OUTDIR/other.tar (the rest: images, archives, Office files...), members
unchanged, and prints each one's message count and size. A member Python's
`email` package cannot read goes to other.tar. Time each with
`scripts/scan-bench.sh BINARY RUNS OUTDIR/text.tar` and so on: the README's
"where phishing-pot's scan time goes, by message shape" row was made so.
"""

import email
import email.policy
import io
import sys
import tarfile
from pathlib import Path


def shape(raw: bytes) -> str:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        leaves = [p for p in msg.walk() if not p.is_multipart()]
        for part in leaves:
            kind = part.get_content_type()
            name = (part.get_filename() or "").lower()
            if kind == "application/pdf" or name.endswith(".pdf"):
                return "pdf"
        if all(p.get_content_maintype() in ("text", "message") for p in leaves):
            return "text"
    except Exception:  # a hostile message: timed with the rest
        pass
    return "other"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    names = ("text", "pdf", "other")
    # Written under temporary names and renamed whole at the end.
    parts = {n: tarfile.open(out / f".{n}.tar.partial", "w") for n in names}
    counts = dict.fromkeys(names, 0)
    with tarfile.open(source) as tar:
        for member in tar:
            if not member.isfile():
                continue
            f = tar.extractfile(member)
            if f is None:
                continue
            raw = f.read()
            kind = shape(raw)
            parts[kind].addfile(member, io.BytesIO(raw))
            counts[kind] += 1
    for n in names:
        parts[n].close()
        (out / f".{n}.tar.partial").replace(out / f"{n}.tar")
        size = (out / f"{n}.tar").stat().st_size
        print(f"{out / n}.tar: {counts[n]} messages, {size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
