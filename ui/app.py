"""Streamlit entry point: ``streamlit run ui/app.py`` (or ``seedsearch ui``).

The API address comes from ``SEEDSEARCH_API_URL`` (default http://127.0.0.1:8000) and the optional key from
``SEEDSEARCH_API_KEY``.
"""

import sys
from importlib.util import find_spec
from pathlib import Path

if find_spec("ui") is None:  # `streamlit run ui/app.py` puts ui/, not the repository root, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui.page import main  # noqa: E402

main()
