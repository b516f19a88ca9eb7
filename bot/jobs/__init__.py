"""Planned and periodic work, one module per job: each takes a unit of work and `now` and
turns what is due into outbox rows (held messages, reminders, agendas, nudges, retention,
blocked recipients). The dispatcher runs them; APScheduler only wakes it."""
