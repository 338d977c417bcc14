"""What every backend shares: the wrapper, features, operations and introspection bases.

Import from the submodules (``shoal.db.backends.base.connection`` etc.); this
package imports nothing so that loading it never pulls in a driver.
"""
