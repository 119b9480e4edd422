"""The problem ledger (问题台账): rounds, their aspects (方面) and items, the 红黄绿灯 lights, and the
ledger in and out of Excel (`xlsx/`). Creating an item starts its path in `engine.process`."""
