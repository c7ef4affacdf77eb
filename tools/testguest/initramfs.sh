# Shared by the test guests' build scripts (sourced, not run): the steps that put host libraries and the cloud
# kernel's modules into an initramfs tree. Both guests are built the same way; only what goes in differs.

# copy_libs ROOT: copies every library path read from stdin into ROOT at the same path (the host runs the same
# Debian release as the guest userland), then the loader.
copy_libs() {
    local root=$1 lib
    while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    [ -e "$root/lib64/ld-linux-x86-64.so.2" ] || { mkdir -p "$root/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"; }
}

# copy_modules ROOT MODDIR NAME...: copies each module and, first, its dependencies into ROOT/lib/modules and writes
# ROOT/etc/modules.order in load order. No depmod in the image: each module's `depends=` is read from its .modinfo.
copy_modules() {
    local root=$1 moddir=$2 name
    shift 2
    local -a loaded=() order=()
    _add_module() {
        local name=$1 file deps dep m
        for m in "${loaded[@]:-}"; do [ "$m" = "$name" ] && return 0; done
        file=$(find "$moddir" -name "$name.ko" | head -1)
        [ -n "$file" ] || { echo "module $name not found in $moddir" >&2; exit 1; }
        deps=$(tr '\0' '\n' < "$file" | sed -n 's/^depends=//p' | head -1)
        for dep in ${deps//,/ }; do _add_module "$dep"; done
        loaded+=("$name")
        cp "$file" "$root/lib/modules/$name.ko"
        order+=("$name")
    }
    for name in "$@"; do _add_module "$name"; done
    printf '%s\n' "${order[@]}" > "$root/etc/modules.order"
}
