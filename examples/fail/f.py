def f(event):
    raise ValueError(f"this function always fails (event was {event!r})")
