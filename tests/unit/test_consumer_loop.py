"""The consumer's poll: once a record came, it waits a little for the records that follow it."""

from aiokafka import TopicPartition

from backbone.consumer_loop import KafkaConsumerLoop

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class ScriptedClient:
    """Answers `getmany` from a script and remembers how it was asked."""

    def __init__(self, *answers: dict) -> None:
        self._answers = list(answers)
        self.asked: list[tuple[int, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        self.asked.append((timeout_ms, max_records))
        return self._answers.pop(0) if self._answers else {}


def _loop(linger: float, max_records: int = 10) -> KafkaConsumerLoop:
    return KafkaConsumerLoop("svc", None, "127.0.0.1:1", ["t"], "g",  # type: ignore[arg-type]
                             max_records=max_records, linger=linger)


async def test_a_small_batch_takes_in_what_followed_it_in_offset_order():
    client = ScriptedClient({A: ["a1"]}, {A: ["a2", "a3"], B: ["b1"]})
    batches = await _loop(linger=0.001)._poll(client)
    assert batches == {A: ["a1", "a2", "a3"], B: ["b1"]}
    # The second look only takes what is already fetched, and no more than the batch has room.
    assert client.asked == [(500, 10), (0, 9)]


async def test_an_empty_poll_does_not_linger():
    client = ScriptedClient({}, {A: ["a1"]})
    assert await _loop(linger=0.001)._poll(client) == {}
    assert client.asked == [(500, 10)]


async def test_a_full_batch_does_not_linger():
    client = ScriptedClient({A: ["a1", "a2"]}, {A: ["a3"]})
    assert await _loop(linger=0.001, max_records=2)._poll(client) == {A: ["a1", "a2"]}
    assert len(client.asked) == 1


async def test_no_linger_means_one_poll():
    client = ScriptedClient({A: ["a1"]}, {A: ["a2"]})
    assert await _loop(linger=0)._poll(client) == {A: ["a1"]}
    assert len(client.asked) == 1
