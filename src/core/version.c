#include "vnative/common.h"

const char *vn_version(void)
{
    return VN_VERSION_STRING;
}

unsigned int vn_version_number(void)
{
    return VN_VERSION_NUMBER;
}
