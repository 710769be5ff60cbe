/* Leaves an orphan behind, then checks that its reaper (vigil) left no
 * zombie: exit 0 if none, 1 if any, printing what it found. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int zombies_of(pid_t parent) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(buf, sizeof buf, f)) {
            char *p = strrchr(buf, ')');
            char state;
            int ppid;
            if (p && sscanf(p + 2, "%c %d", &state, &ppid) == 2 && ppid == parent && state == 'Z') {
                printf("zombie %s\n", e->d_name);
                found++;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

int main(void) {
    pid_t reaper = getppid();
    int n = 5;
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c == 0) {
            if (fork() == 0) { usleep(100000); _exit(0); }  /* the orphan */
            _exit(0);
        }
        waitpid(c, NULL, 0);
    }
    usleep(600000);
    int z = zombies_of(reaper);
    printf("orphans=%d zombies=%d\n", n, z);
    return z ? 1 : 0;
}
