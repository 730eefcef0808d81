"""Performance analytics: tracking links, conversions, the metric dictionary, reports."""
