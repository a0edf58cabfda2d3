#!/usr/bin/env bash
# (Re)fetch the JavaScript the rendered book needs to work offline, from the npm registry,
# into book/assets/. For maintainers only: the files are committed, and neither the book
# build nor the tests ever touch the network. Needs npm and tar.
#
#   bash scripts/vendor_assets.sh            # fetch the pinned versions below
#
# To upgrade, change a version here, run the script, rebuild the book and run
# `pytest tests/test_browser.py` (it proves every page renders with the network cut).
set -euo pipefail
cd "$(dirname "$0")/.."

MATHJAX_VERSION=3.2.2            # MathJax 3: es5/tex-svg-full.js (SVG output needs no web fonts)
HTML_MANAGER_VERSION=1.0.15      # @jupyter-widgets/html-manager 1.x = ipywidgets 8 widget state
ASSETS=book/assets

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME@VERSION into $work/<dir>/package
    local spec=$1 dir=$2
    mkdir -p "$work/$dir"
    (cd "$work/$dir" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
}

echo "== MathJax $MATHJAX_VERSION"
fetch "mathjax@$MATHJAX_VERSION" mathjax
rm -rf "$ASSETS/mathjax"
mkdir -p "$ASSETS/mathjax"
# tex-svg-full.js carries every TeX extension (no autoloading of further files) and the
# SVG output's glyph data (no web fonts).
cp "$work/mathjax/package/es5/tex-svg-full.js" "$ASSETS/mathjax/"
cp "$work/mathjax/package/LICENSE" "$ASSETS/mathjax/LICENSE"
echo "mathjax@$MATHJAX_VERSION es5/tex-svg-full.js from the npm registry" > "$ASSETS/mathjax/VERSION"

echo "== @jupyter-widgets/html-manager $HTML_MANAGER_VERSION"
fetch "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION" html-manager
dist="$work/html-manager/package/dist"
rm -rf "$ASSETS/jupyter-widgets"
mkdir -p "$ASSETS/jupyter-widgets"
# embed.js bundles the widget manager and all @jupyter-widgets/controls views (no RequireJS,
# no CDN look-up for the built-in widgets). It loads its Font Awesome 5 fonts from the
# folder it was loaded from; browsers take the woff2 files, so only those are kept.
cp "$dist/embed.js" "$dist/embed.js.LICENSE.txt" "$ASSETS/jupyter-widgets/"
for font in $(grep -o '[0-9a-f]\{20\}\.woff2' "$dist/embed.js" | sort -u); do
    cp "$dist/$font" "$ASSETS/jupyter-widgets/"
done
# The npm package carries no LICENSE file: ipywidgets is BSD-3-Clause (package.json).
cat > "$ASSETS/jupyter-widgets/LICENSE" <<'LICENSE'
@jupyter-widgets/html-manager (dist/embed.js) is part of ipywidgets, BSD-3-Clause:

Copyright (c) 2015 Project Jupyter Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

The bundle includes third-party code whose notices are in embed.js.LICENSE.txt
(jQuery and jQuery UI: MIT; is-plain-object: MIT). The *.woff2 files are the
Font Awesome Free 5 fonts, SIL Open Font License 1.1 (https://fontawesome.com/license/free).
LICENSE
echo "@jupyter-widgets/html-manager@$HTML_MANAGER_VERSION dist/embed.js from the npm registry" \
    > "$ASSETS/jupyter-widgets/VERSION"

du -sh "$ASSETS/mathjax" "$ASSETS/jupyter-widgets"
