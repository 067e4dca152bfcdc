%% erlang-micro: the Erlang/OTP peer of bench/micro/troupe_micro.cpp (contract:
%% bench/peers/erlang/NOTES.md and the peers' contract of issue 16).
%%
%% Run as `erl -noshell ... -s micro main -extra WORKLOAD [SCALE]` (build/bench/erlang-micro does
%% it). Prints exactly one stdout line `workload=NAME unit=UNIT value=NUMBER` and halts with 0, or
%% halts with 1 and a reason on stderr when a result is wrong (2: bad usage). Every count, check
%% and timing window is troupe_micro.cpp's: the clock starts just before the first message or
%% spawn and stops when the benchmark process holds the verified result; VM start-up and halt are
%% outside it.
-module(micro).
-export([main/0]).

-define(TIMEOUT_MS, 600000).  % troupe_micro's await(): 600 s, then fail rather than hang
-define(MASK27, 16#7FFFFFF).  % 2^27 - 1: fanout's modulus

%% -- entry -------------------------------------------------------------------------------------

%% Runs in init's boot process (it traps exits, and a crash there halts the VM with a crash
%% dump), so the workload runs in a fresh process of its own and this one only reports.
main() ->
    % Reports of crashed processes go to stderr: stdout carries the one result line only.
    ok = logger:remove_handler(default),
    ok = logger:add_handler(default, logger_std_h, #{config => #{type => standard_error}}),
    {Workload, Scale} = parse_args(init:get_plain_arguments()),
    {Pid, Ref} = spawn_monitor(fun() -> exit({result, run(Workload, Scale)}) end),
    receive
        {'DOWN', Ref, process, Pid, {result, {Unit, Value}}} ->
            io:format("workload=~s unit=~s value=~s~n", [Workload, Unit, format(Unit, Value)]),
            erlang:halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            die(io_lib:format("~s failed: ~p", [Workload, Reason]))
    end.

run("pingpong-1", Scale) -> pingpong(1, scaled(1000000, Scale));
run("pingpong-4", Scale) -> pingpong(4, scaled(500000, Scale));
run("fanin", Scale) -> fanin(Scale);
run("skynet", Scale) -> skynet(Scale);
run("ring", Scale) -> ring(Scale);
run("idle-footprint", Scale) -> idle_footprint(Scale);
run("fanout", Scale) -> fanout(Scale).

-define(WORKLOADS, ["pingpong-1", "pingpong-4", "fanin", "skynet", "ring", "idle-footprint",
                    "fanout"]).

parse_args([Workload | Rest]) when length(Rest) =< 1 ->
    lists:member(Workload, ?WORKLOADS) orelse usage("unknown workload " ++ Workload),
    Scale = case Rest of
                [] -> 1.0;
                [S] -> parse_scale(S)
            end,
    Scale > 0 orelse die("SCALE must be positive"),
    {Workload, Scale};
parse_args(_) ->
    usage("expected WORKLOAD [SCALE]").

parse_scale(S) ->
    case string:to_float(S) of
        {F, ""} -> F;
        _ ->
            case string:to_integer(S) of
                {I, ""} -> float(I);
                _ -> usage("SCALE must be a number, not " ++ S)
            end
    end.

%% -- helpers -----------------------------------------------------------------------------------

%% troupe_micro's scaled(): llround(n * scale), at least 1 (round/1 also rounds halves away
%% from zero).
scaled(N, Scale) -> max(1, round(N * Scale)).

%% troupe_micro prints %.6f for seconds and %.0f for everything else.
format("s", Value) -> io_lib:format("~.6f", [float(Value)]);
format(_, Value) -> integer_to_list(round(Value)).

now_native() -> erlang:monotonic_time().

seconds_since(Start) ->
    erlang:convert_time_unit(erlang:monotonic_time() - Start, native, nanosecond) / 1.0e9.

%% As troupe_micro's die(): from any process, a reason on stderr and exit status 1.
die(Why) ->
    io:format(standard_error, "erlang-micro: ~s~n", [Why]),
    erlang:halt(1).

usage(Why) ->
    io:format(standard_error,
              "erlang-micro: ~s~nusage: erlang-micro WORKLOAD [SCALE]~nworkloads: ~s~n",
              [Why, lists:join(" ", ?WORKLOADS)]),
    erlang:halt(2).

timed_out(What) -> die("timed out waiting for " ++ What).

%% Waits for `ready` from each of N processes: troupe_micro's sys.wait_idle() before the clock
%% starts, where every actor has run and handled its set-up message.
await_ready(0) -> ok;
await_ready(N) ->
    receive
        ready -> await_ready(N - 1)
    after ?TIMEOUT_MS -> timed_out("set-up")
    end.

%% -- ping-pong: pairs bounce a sequence number; each ping checks the order of its replies -------
%% Messages are bare integers (the sequence number) and the atom start: each process has one
%% kind of message per state, so a tag would only cost a tuple per message.

pingpong(Pairs, RoundTrips) ->
    Main = self(),
    Pings = [begin
                 Pong = spawn(fun() -> pong_connect(Main) end),
                 Ping = spawn(fun() -> ping_wait(Pong, Main, RoundTrips) end),
                 Pong ! {connect, Ping},
                 Ping
             end || _ <- lists:seq(1, Pairs)],
    await_ready(Pairs),  % every pong knows its ping before the clock starts
    Start = now_native(),
    [Ping ! start || Ping <- Pings],
    Total = collect(done, Pairs, 0, "ping-pong"),
    Secs = seconds_since(Start),
    Total =:= RoundTrips * Pairs orelse die("ping-pong: round trips mismatch"),
    {"msgs/s", 2 * Total / Secs}.

pong_connect(Main) ->
    receive
        {connect, Ping} ->
            Main ! ready,
            pong_loop(Ping)
    end.

pong_loop(Ping) ->
    receive
        Seq -> Ping ! Seq
    end,
    pong_loop(Ping).

ping_wait(Pong, Main, RoundTrips) ->
    receive
        start ->
            Pong ! 0,
            ping_loop(Pong, Main, RoundTrips, 0)
    end.

ping_loop(Pong, Main, RoundTrips, Next) ->
    receive
        Seq ->
            Seq =:= Next orelse die("ping-pong: reply out of order"),
            case Next + 1 of
                RoundTrips -> Main ! {done, RoundTrips};  % and the ping ends, as troupe's quits
                Following ->
                    Pong ! Following,
                    ping_loop(Pong, Main, RoundTrips, Following)
            end
    end.

%% Adds up N messages {Tag, Value} (each worker's report), starting from Total; What names the
%% workload if they do not all come.
collect(_Tag, 0, Total, _What) -> Total;
collect(Tag, N, Total, What) ->
    receive
        {Tag, Value} -> collect(Tag, N - 1, Total + Value, What)
    after ?TIMEOUT_MS -> timed_out(What)
    end.

%% -- fan-in: 20 senders, one receiver ------------------------------------------------------------
%% The sink keeps its message queue off its heap ({message_queue_data, off_heap}): the setting
%% OTP's documentation advises for a process that many processes send to, and from OTP 25 the
%% one in which the VM, once it sees senders contend, lets them append to separate buffers
%% instead of all taking the receiver's queue lock.

fanin(Scale) ->
    Senders = 20,
    PerSender = scaled(200000, Scale),
    Expected = PerSender * Senders,
    Main = self(),
    Sink = spawn_opt(fun() -> Main ! ready, sink(Main, Expected, 0, 0) end,
                     [{message_queue_data, off_heap}]),
    await_ready(1),
    Start = now_native(),
    [spawn(fun() -> send_upto(Sink, 0, PerSender) end) || _ <- lists:seq(1, Senders)],
    {Count, Sum} = receive
                       {done, C, S} -> {C, S}
                   after ?TIMEOUT_MS -> timed_out("fan-in")
                   end,
    Secs = seconds_since(Start),
    Count =:= Expected andalso Sum =:= Senders * (PerSender * (PerSender - 1) div 2)
        orelse die("fanin: wrong count or sum"),
    {"msgs/s", Expected / Secs}.

sink(Main, Expected, Count, Sum) ->
    receive
        X ->
            case Count + 1 of
                Expected -> Main ! {done, Expected, Sum + X};
                Next -> sink(Main, Expected, Next, Sum + X)
            end
    end.

send_upto(_To, N, N) -> ok;
send_upto(To, I, N) ->
    To ! I,
    send_upto(To, I + 1, N).

%% -- skynet: a 10-ary tree of processes summing the numbers of its leaves -----------------------

skynet(Scale) ->
    Leaves = max(10, leaves(1, scaled(1000000, Scale))),
    Main = self(),
    Start = now_native(),
    spawn(fun() -> skynet_node(Main, 0, Leaves) end),
    Sum = receive
              S -> S
          after ?TIMEOUT_MS -> timed_out("skynet")
          end,
    Secs = seconds_since(Start),
    Sum =:= Leaves * (Leaves - 1) div 2
        orelse die("skynet: wrong sum " ++ integer_to_list(Sum)),
    {"s", Secs}.

%% The largest power of 10 not above Limit (troupe_micro's loop).
leaves(L, Limit) when L * 10 =< Limit -> leaves(L * 10, Limit);
leaves(L, _) -> L.

skynet_node(Parent, Num, 1) ->
    Parent ! Num;
skynet_node(Parent, Num, Size) ->
    Child = Size div 10,
    Self = self(),
    spawn_children(Self, Num, Child, 0),
    Parent ! sum_children(10, 0).

spawn_children(_Self, _Num, _Child, 10) -> ok;
spawn_children(Self, Num, Child, I) ->
    spawn(fun() -> skynet_node(Self, Num + I * Child, Child) end),
    spawn_children(Self, Num, Child, I + 1).

sum_children(0, Sum) -> Sum;
sum_children(N, Sum) ->
    receive
        S -> sum_children(N - 1, Sum + S)
    end.

%% -- ring: 503 processes pass one token ----------------------------------------------------------
%% The token is a bare integer, the hops still to go. Each node counts the tokens it handled;
%% after the run every node reports its count, which must total hops + 1.

-define(RING, 503).

ring(Scale) ->
    Hops = scaled(5000000, Scale),
    Main = self(),
    Nodes = list_to_tuple([spawn(fun() -> ring_connect(I, Main) end) || I <- lists:seq(0, ?RING - 1)]),
    [element(I + 1, Nodes) ! {connect, element((I + 1) rem ?RING + 1, Nodes)}
     || I <- lists:seq(0, ?RING - 1)],
    await_ready(?RING),
    Start = now_native(),
    element(1, Nodes) ! Hops,
    {Index, Handled} = receive
                           {finished, I, H} -> {I, H}
                       after ?TIMEOUT_MS -> timed_out("ring")
                       end,
    Secs = seconds_since(Start),
    Index =:= Hops rem ?RING orelse die("ring: token ended at the wrong node"),
    [element(I + 1, Nodes) ! report || I <- lists:seq(0, ?RING - 1), I =/= Index],
    Tokens = collect(count, ?RING - 1, Handled, "ring counts"),
    Tokens =:= Hops + 1 orelse die("ring: token count mismatch " ++ integer_to_list(Tokens)),
    {"msgs/s", Hops / Secs}.

ring_connect(Index, Main) ->
    receive
        {connect, Next} ->
            Main ! ready,
            ring_loop(Index, Main, Next, 0)
    end.

ring_loop(Index, Main, Next, Handled) ->
    receive
        0 ->
            Main ! {finished, Index, Handled + 1},
            ring_loop(Index, Main, Next, Handled + 1);
        Remaining when is_integer(Remaining) ->
            Next ! Remaining - 1,
            ring_loop(Index, Main, Next, Handled + 1);
        report ->
            Main ! {count, Handled},
            ring_loop(Index, Main, Next, Handled)
    end.

%% -- idle footprint: RSS growth per idle process ----------------------------------------------
%% As troupe_micro: the OS's resident set (/proc/self/statm) before spawning N processes and
%% after every one has run and waits in receive, divided by N. erlang:memory(processes) (what
%% the VM's allocators hold for processes) goes to stderr beside it, for comparison. The pids
%% are not kept: an Erlang process lives without a reference to it (troupe's figure includes
%% its vector of handles, 8 bytes an actor).

idle_footprint(Scale) ->
    N = scaled(1000000, Scale),
    Started = counters:new(1, [write_concurrency]),
    PageSize = page_size(),
    garbage_collect(),
    RssBefore = resident_bytes(PageSize),
    ProcsBefore = erlang:memory(processes),
    spawn_idle(N, Started),
    await_started(N, Started),
    RssAfter = resident_bytes(PageSize),
    ProcsAfter = erlang:memory(processes),
    io:format(standard_error,
              "erlang-micro: idle-footprint: RSS ~B -> ~B bytes, erlang:memory(processes) ~B -> ~B "
              "bytes (~.1f a process) for ~B processes~n",
              [RssBefore, RssAfter, ProcsBefore, ProcsAfter, (ProcsAfter - ProcsBefore) / N, N]),
    {"bytes", (RssAfter - RssBefore) / N}.

spawn_idle(0, _Started) -> ok;
spawn_idle(N, Started) ->
    spawn(fun() -> counters:add(Started, 1, 1), idle_loop() end),
    spawn_idle(N - 1, Started).

%% troupe's idle actor: handles an integer and stays.
idle_loop() ->
    receive
        _ -> idle_loop()
    end.

%% Every process has run (the counter) and none is still runnable (the run queues are empty):
%% each waits in receive, as troupe's sys.wait_idle() leaves its actors.
await_started(N, Started) -> await_started(N, Started, erlang:monotonic_time(millisecond)).

await_started(N, Started, Since) ->
    case counters:get(Started, 1) =:= N andalso
             erlang:statistics(total_run_queue_lengths_all) =:= 0 of
        true -> ok;
        false ->
            erlang:monotonic_time(millisecond) - Since < ?TIMEOUT_MS
                orelse die("idle-footprint: not every process started"),
            receive after 1 -> ok end,
            await_started(N, Started, Since)
    end.

resident_bytes(PageSize) ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = binary:split(Statm, <<" ">>, [global]),
    binary_to_integer(Resident) * PageSize.

page_size() ->
    list_to_integer(string:trim(os:cmd("getconf PAGESIZE"))).

%% -- fan-out: one producer, 60 workers, a few hundred ns of arithmetic a message -------------------
%% The producer is the benchmark process: it sends M integers to each worker in one loop, without
%% waiting (mailboxes are unbounded, like troupe's), then collects the 60 sums.

-define(WORKERS, 60).

fanout(Scale) ->
    M = scaled(40000, Scale),
    S = sum_f(0, M, 0),  % before the clock starts
    Main = self(),
    Workers = [spawn(fun() -> Main ! ready, fanout_worker(Main, M, 0) end)
               || _ <- lists:seq(1, ?WORKERS)],
    await_ready(?WORKERS),
    Start = now_native(),
    produce(0, M, Workers),
    Total = collect(sum, ?WORKERS, 0, "fanout"),
    Secs = seconds_since(Start),
    Total =:= ?WORKERS * S orelse die("fanout: wrong total " ++ integer_to_list(Total)),
    {"msgs/s", ?WORKERS * M / Secs}.

produce(M, M, _Workers) -> ok;
produce(I, M, Workers) ->
    send_each(Workers, I),
    produce(I + 1, M, Workers).

send_each([], _I) -> ok;
send_each([W | Ws], I) ->
    W ! I,
    send_each(Ws, I).

fanout_worker(Collector, Left, Sum) ->
    receive
        I ->
            case Left of
                1 -> Collector ! {sum, Sum + f(I)};
                _ -> fanout_worker(Collector, Left - 1, Sum + f(I))
            end
    end.

%% f(i): 200 steps of x = (x * 1103515245 + 12345) mod 2^27 from i mod 2^27. Every intermediate
%% stays below 2^58, inside a 64-bit VM's small integers (no bignums).
f(I) -> lcg(I band ?MASK27, 200).

lcg(X, 0) -> X;
lcg(X, K) -> lcg((X * 1103515245 + 12345) band ?MASK27, K - 1).

sum_f(M, M, Sum) -> Sum;
sum_f(I, M, Sum) -> sum_f(I + 1, M, Sum + f(I)).
