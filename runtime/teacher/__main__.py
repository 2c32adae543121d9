"""``python -m rulec.runtime.teacher [EXAMPLES_DIR]``: print the teacher's system prompt as it is generated now."""

import sys
from pathlib import Path

from rulec.runtime.teacher.prompt import system_prompt

sys.stdout.write(system_prompt(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
