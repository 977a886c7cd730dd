# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test/consumers/gui-lib.bash: shared by the tests that drive real application windows
# (libreoffice-*.sh, chromium-*.sh) on an X server of their own (Xvfb), the way a user
# does: the dialogs are answered with the keyboard through xdotool, never by screen
# coordinates. Sourced after nss-lib.bash. Provides:
#   gui_need            fails loudly when Xvfb, xdotool, import or tesseract is missing
#   gui_begin NAME      after nss_begin: $OUT (screenshots and logs, kept after the run:
#                       ${HPKI_TEST_OUTPUT:-$TOP/test/consumers/output}/NAME, emptied
#                       first), starts Xvfb on a free display (DISPLAY exported),
#                       a HOME of its own under $WORK
#   spawn VAR CMD...    starts CMD in a session of its own (setsid), its PID (= process
#                       group) in VAR; stopped at exit (TERM, then KILL after 5 s)
#   stop_group PGID     stops one such group now
#   shot NAME           screenshot of the whole display: $OUT/NN-NAME.png
#   wait_window REGEX [S]       prints the id of a window whose name matches, waits up to
#                               S s (default 30); status 1 if none came
#   wait_no_window REGEX [S]    waits until no window name matches
#   key_to WIN KEYS...          focuses WIN and sends the keys (xdotool key names)
#   type_to WIN TEXT            focuses WIN and types TEXT
#   answer WIN REGEX TEXT       types TEXT and Return into dialog WIN (name REGEX); if the
#                               dialog is still there 5 s later (keys lost), once more
#   windows                     the named windows, one "id name" a line (for the log)
#   ocr PNG [GEOMETRY [bw]]     the text tesseract reads on the screenshot (or on the
#                               part GEOMETRY, WxH+X+Y, "" for all), scaled up twice;
#                               bw: three times and black-and-white, which reads text
#                               on a highlighted row too
#   window_png WIN FILE         a screenshot of window WIN only (cut to its geometry)
#   retry_until_changed WIN CMD...   runs CMD (keys typed into WIN) until WIN looks
#                               different afterwards (more than 150 pixels changed), up
#                               to 4 times. A dialog that has just got the keyboard back
#                               from a closed child dialog can drop the first keys; this
#                               proves the input arrived. (tesseract reads text inside
#                               entry fields too poorly to check it that way.)
#   elapsed                     seconds since gui_begin, for the timing line
# Without a window manager X gives the keyboard to the window that was focused last;
# key_to and type_to focus the dialog (XSetInputFocus) before each input.

gui_need() {
	need Xvfb xvfb
	need xdotool xdotool
	need xwininfo x11-utils
	need import imagemagick
	need convert imagemagick
	need compare imagemagick
	need tesseract tesseract-ocr
}

groups=()
stop_group() { # pgid
	kill -TERM -- "-$1" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL -- "-$1" 2>/dev/null
	return 0
}
stop_all() {
	local i
	# last started first: the applications before the X server
	for ((i = ${#groups[@]} - 1; i >= 0; i--)); do stop_group "${groups[i]}"; done
	groups=()
}
spawn() { # VAR command...
	local var=$1
	shift
	setsid "$@" </dev/null &
	printf -v "$var" '%s' "$!"
	groups+=("$!")
}

gui_begin() {
	local name=$1 dfile
	OUT=${HPKI_TEST_OUTPUT:-$TOP/test/consumers/output}/$name
	rm -rf "$OUT"
	mkdir -p "$OUT" || { fail "cannot create $OUT"; finish; }
	echo "screenshots and logs: $OUT"
	nss_cleanup_hooks+=(stop_all)
	export HOME=$WORK/home
	mkdir -p "$HOME"
	gui_t0=$(date +%s%N)
	shot_n=0
	# -displayfd: the server picks a free display number and writes it to the pipe.
	dfile=$WORK/xvfb.display
	setsid Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp \
		3>"$dfile" >"$OUT/xvfb.log" 2>&1 </dev/null &
	groups+=("$!")
	for _ in $(seq 100); do [ -s "$dfile" ] && break; sleep 0.05; done
	[ -s "$dfile" ] || { fail "Xvfb did not start ($OUT/xvfb.log)"; finish; }
	export DISPLAY=:$(head -n 1 "$dfile")
	unset WAYLAND_DISPLAY
	check "Xvfb runs on $DISPLAY" xwininfo -root -display "$DISPLAY" >/dev/null
}

elapsed() { echo $((($(date +%s%N) - gui_t0) / 1000000000)); }

shot() {
	shot_n=$((shot_n + 1))
	local f
	f=$OUT/$(printf '%02d' "$shot_n")-$1.png
	import -window root "$f" 2>/dev/null || echo "(screenshot $f failed)"
	echo "   [screenshot $(basename "$f")]"
}

windows() {
	local w n
	for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
		n=$(xdotool getwindowname "$w" 2>/dev/null)
		[ -n "$n" ] && echo "$w $n"
	done
}

wait_window() { # regex [seconds]
	local i w
	for ((i = 0; i < ${2:-30} * 5; i++)); do
		w=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n 1)
		[ -n "$w" ] && { echo "$w"; return 0; }
		sleep 0.2
	done
	return 1
}

wait_no_window() { # regex [seconds]
	local i
	for ((i = 0; i < ${2:-30} * 5; i++)); do
		xdotool search --onlyvisible --name "$1" >/dev/null 2>&1 || return 0
		sleep 0.2
	done
	return 1
}

key_to() { # window keys...
	local w=$1
	shift
	xdotool windowfocus --sync "$w" 2>/dev/null || xdotool windowfocus "$w"
	sleep 0.2
	xdotool key --delay 80 "$@"
}

type_to() { # window text
	xdotool windowfocus --sync "$1" 2>/dev/null || xdotool windowfocus "$1"
	sleep 0.2
	xdotool type --delay 60 "$2"
}

answer() { # window name-regex text
	local i
	for i in 1 2; do
		xdotool windowfocus --sync "$1" 2>/dev/null || xdotool windowfocus "$1"
		sleep 0.2
		xdotool key ctrl+a BackSpace
		xdotool type --delay 60 "$3"
		xdotool key Return
		wait_no_window "$2" 5 && return 0
		xdotool search --onlyvisible --name "$2" 2>/dev/null | grep -qx "$1" || return 0
		echo "   (dialog '$2' still open after the answer; typing it again)"
	done
	return 1
}

ocr() { # png [geometry [bw]]
	local src=$1 tmp=$WORK/ocr.png crop=() scale=(-resize 200% -colorspace Gray)
	[ -n "${2:-}" ] && crop=(-crop "$2" +repage)
	[ "${3:-}" = bw ] && scale=(-resize 300% -colorspace Gray -threshold 55%)
	convert "$src" "${crop[@]}" "${scale[@]}" "$tmp"
	tesseract "$tmp" - 2>/dev/null
}

window_png() { # window file
	local X Y WIDTH HEIGHT
	eval "$(xdotool getwindowgeometry --shell "$1" | grep -E '^(X|Y|WIDTH|HEIGHT)=')"
	import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$2" 2>/dev/null
}

retry_until_changed() { # window command...
	local w=$1 i n
	shift
	for i in 1 2 3 4; do
		window_png "$w" "$WORK/before.png"
		"$@"
		sleep 0.7
		window_png "$w" "$WORK/after.png"
		n=$(compare -metric AE -fuzz 10% "$WORK/before.png" "$WORK/after.png" null: 2>&1)
		[ "${n%%.*}" -gt 150 ] 2>/dev/null && return 0
		echo "   (the dialog did not change after the keys: ${n:-?} pixels; try $i)"
		sleep 1
	done
	return 1
}
