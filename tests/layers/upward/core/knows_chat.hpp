// A core file that knows of chat: check-layers must refuse it.
#pragma once

#include "chat/room.hpp"
