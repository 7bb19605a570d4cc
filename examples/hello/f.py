def f(event):
    name = (event or {}).get("name", "world") if isinstance(event, dict) or event is None else str(event)
    return {"greeting": f"hello, {name}"}
