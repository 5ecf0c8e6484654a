// The umbrella header for users and samples: everything gocoro offers.
#pragma once

#include "go/blocking.hpp"
#include "go/chan.hpp"
#include "go/context.hpp"
#include "go/error.hpp"
#include "go/runtime.hpp"
#include "go/select.hpp"
#include "go/spawn.hpp"
#include "go/sync/cond.hpp"
#include "go/sync/mutex.hpp"
#include "go/sync/once.hpp"
#include "go/sync/pool.hpp"
#include "go/sync/rwmutex.hpp"
#include "go/sync/semaphore.hpp"
#include "go/sync/wait_group.hpp"
#include "go/task.hpp"
#include "go/time.hpp"
