"""Reports: daily, weekly and monthly reports per role as HTML, XLSX and PDF; shared charts.

``charts.figure_for`` draws one Plotly chart per analysis result (the web app uses it too);
``build.build_report`` runs the sections of a period on the (scoped) warehouse;
``html``, ``xlsx`` and ``pdf`` write the result.
"""

from __future__ import annotations
