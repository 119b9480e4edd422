"""Telling people: the in-app notification centre (站内通知), written with the changes that cause it."""
