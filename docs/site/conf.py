# Sphinx configuration of the course website (make site: tools/website.py writes the pages).
from pathlib import Path

project = "自动微分 (Automatic differentiation)"
author = "the authors of the automatic differentiation course"
copyright = f"2026, {author}; text CC BY 4.0, code MIT"
language = "zh_CN"

extensions = ["myst_nb"]
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
exclude_patterns = ["README.md", "_extra", "_static", "**/.ipynb_checkpoints"]
SRC = Path(__file__).resolve().parents[2] / "build" / "site-src"  # written by tools/website.py
html_extra_path = [f"{SRC}/_extra"]  # the original .ipynb files next to their pages

html_theme = "sphinx_book_theme"
html_title = project
# each page links its notebook, deck and PDFs itself
html_theme_options = {"show_toc_level": 2, "use_download_button": False, "navigation_with_keys": True}
html_static_path = [f"{SRC}/_static"]
html_show_search_summary = False  # summaries are fetched, which file:// pages may not do

# MathJax 2 from the copy the slide decks vendor (no CDN), copied to _static/mathjax
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
# MyST-NB marks notebook sections tex2jax_ignore and the formulas "math" (a MathJax 3 setting)
mathjax2_config = {"tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area"}}

# Chinese search: jieba splits the text; the course's glossary terms are its user dictionary
html_search_language = "zh"
html_search_options = {"dict": f"{SRC}/jieba_dict.txt"}

# Sphinx 9.0's Chinese search assigns `window.Stemmer = ChineseStemmer`, undefined in the
# English stemmer's script it loads (a ReferenceError): name the English one.
from sphinx.search import languages, zh  # noqa: E402

languages["zh"] = type("ChineseSearch", (zh.SearchChinese,), {"language_name": "English"})
