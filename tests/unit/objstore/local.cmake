# LocalStore (file://): the store contract on a directory, listing order, etags, failures.
zerofs_test(unit_localstore unit local_store_test.cpp local_store_crash_test.cpp)
