// placeholder replaced by the vtld work item
int main() { return 0; }
