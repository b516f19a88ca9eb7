"""The line as a service: a family message becomes outbox rows (copies to the coach, the
answer to the family, crisis lines), a coach's reply reaches the family, answers to reminders
reach the coach. Used by handlers and jobs alike; imports neither Telegram nor SQLAlchemy."""
