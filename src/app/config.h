/* config.h: forwards to the config reader's header, src/app/config/config.h. */
#include "config/config.h"
