"""Reports: the figures of a span as tables and charts, rendered to HTML, PDF or CSV."""
