"""SLOs against the store: load their timelines, judge them, write their series."""
