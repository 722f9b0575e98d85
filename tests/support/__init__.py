"""The vocabulary tests share: packets, topology builders, result matchers and waiting.

Import from the modules: ``tests.support.packets``, ``tests.support.topology``,
``tests.support.matchers``, ``tests.support.waiting``.
"""
