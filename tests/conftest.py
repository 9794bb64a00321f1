import sys
from pathlib import Path

# tests import small helpers from this folder (golden_util)
sys.path.insert(0, str(Path(__file__).resolve().parent))
