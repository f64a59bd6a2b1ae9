"""The one-stop service desk: intake, dispatch, work orders on an audited SLA clock, ratings,
notices, figures and the vendor-assessment evidence."""
