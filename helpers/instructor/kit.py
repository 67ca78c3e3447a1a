"""``make kit``: the student kit, what an instructor hands out, built from this course.

    out/student-kit/
        README.md, Makefile, pyproject.toml, requirements.txt   for students (kit_files/)
        student.mk                 the student's make targets, shared with the course
        release/backprop/          the release notebooks (nbgrader's, without answers)
        helpers/                   every module directly in helpers/, and lab_config/;
                                   never instructor/ (the solutions, the hidden tests)

The kit holds nothing a student should not see: ``tests/instructor/test_kit.py`` builds it and
reads every file. In the kit's folder, students run ``make lab``, ``make check`` and
``make submit`` as they would in the course's.

Interface:
    build_kit(out, project) -> Path   from the course folder ``project`` (``out`` is replaced)
    main(argv=None)                   ``python -m helpers.instructor.kit --out DIR``
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import helpers
from helpers.instructor.course import ASSIGNMENT

KIT_FILES = Path(__file__).with_name("kit_files")
# Never copied from helpers/: the instructor's package, caches.
LEFT_OUT = shutil.ignore_patterns("instructor", "__pycache__", "*.pyc")


def build_kit(out: str | Path, project: Path) -> Path:
    """Write the student kit of the course folder ``project`` (its ``release/``, its
    ``student.mk``) into ``out`` and return it; ``helpers`` is this installed package."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(KIT_FILES, out)
    shutil.copy2(project / "student.mk", out / "student.mk")
    release = project / "release" / ASSIGNMENT
    shutil.copytree(release, out / "release" / ASSIGNMENT, ignore=LEFT_OUT)
    shutil.copytree(Path(helpers.__file__).parent, out / "helpers", ignore=LEFT_OUT)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the student kit.")
    parser.add_argument("--out", type=Path, default=Path("out/student-kit"))
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="course folder")
    args = parser.parse_args(argv)
    if not (args.project / "release" / ASSIGNMENT).is_dir():
        parser.error(f"no release/{ASSIGNMENT} in {args.project}: run this in the course folder")
    kit = build_kit(args.out, args.project)
    files = sorted(p.relative_to(kit) for p in kit.rglob("*") if p.is_file())
    print(f"student kit in {kit}: {len(files)} files")
    for path in files:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
