# LocalStore shared by several processes: conditional puts race across processes.
zerofs_test(integration_local integration local_race_test.cpp)
