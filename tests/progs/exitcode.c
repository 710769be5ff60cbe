/* Exits with the status given as its argument; built static, so it needs
 * no loader and makes no syscall before exit_group but its own start-up. */
#include <stdlib.h>

int main(int argc, char **argv) {
    return argc > 1 ? atoi(argv[1]) : 0;
}
