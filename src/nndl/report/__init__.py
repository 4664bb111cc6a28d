"""The study report: results.json and figures rendered as report.md and a self-contained report.html."""
