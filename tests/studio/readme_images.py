"""Copy the README's studio screenshots from a test run into docs/studio, made small.

    python tests/studio/readme_images.py <screenshots folder>     (make studio-screenshots)

Each chosen PNG is reduced to a 64-colour palette, which keeps the text sharp at a fraction of
the size; the rest of the run's screenshots stay where the tests wrote them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

CHOSEN = ("studio-analyst-test-fails.png", "studio-analyst-try-it.png", "studio-approval-diff.png",
          "studio-review-decided.png", "studio-decision-log.png")
TARGET = Path(__file__).resolve().parents[2] / "docs" / "studio"


def main(folder: Path) -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in CHOSEN:
        image = Image.open(folder / name).convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT)
        image.save(TARGET / name, optimize=True)
        print(f"{TARGET / name}: {(TARGET / name).stat().st_size // 1024} KiB")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
