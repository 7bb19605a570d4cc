"""Loaded once by every spare before its call (instance.warm_up), through the same loader as f.py; nothing in
it is used."""
