// A chat file that reaches up into the process layer: check-layers must refuse it.
#pragma once

#include "daemon/settings.hpp"
