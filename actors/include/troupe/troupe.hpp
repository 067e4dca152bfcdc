// Everything a troupe program needs: System, spawn, handles, behaviors, requests, coroutines,
// timers, scoped actors, names, process groups, links, monitors, supervisors and pools.
#pragma once

#include <troupe/behavior.hpp>
#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/groups.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/name_service.hpp>
#include <troupe/pool.hpp>
#include <troupe/promise.hpp>
#include <troupe/registry.hpp>
#include <troupe/scoped_actor.hpp>
#include <troupe/supervisor.hpp>
#include <troupe/system.hpp>
#include <troupe/task.hpp>
