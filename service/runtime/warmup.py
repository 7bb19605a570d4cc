"""Loaded and called once by every spare before its first call (instance.warm_up), the way f.py will be."""


def f(event):
    return event
