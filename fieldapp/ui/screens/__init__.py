"""The tablet's screens: Today, the job page and its tabs, the form, the problems page,
the top bar. Each gets the AppContext and goes through ``ops`` only."""
