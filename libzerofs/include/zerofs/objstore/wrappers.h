// The store wrappers, for code that uses several of them (tests, benchmarks):
//   StoreWrapper         forwards every call; the base of the others (store_wrapper.h)
//   FaultInjectingStore  seeded failures, short list pages, delays, crashes
//   LatencyStore         round trip and shared bandwidth, to behave like remote S3
//   MeteredStore         request and byte counts by kind, with an S3 cost estimate
//   RetryingStore        bounded retries with backoff; lost answers of conditional puts
// Each has its own header, with its ownership and thread-safety rules.
#pragma once

#include "zerofs/objstore/fault_injecting_store.h"
#include "zerofs/objstore/latency_store.h"
#include "zerofs/objstore/metered_store.h"
#include "zerofs/objstore/retrying_store.h"
#include "zerofs/objstore/store_op.h"
#include "zerofs/objstore/store_wrapper.h"
