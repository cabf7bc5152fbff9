"""The position a pipelined relay may record: the one before the first publish the broker did not ack."""

from services.common.confirms import ConfirmTracker


def batch(*positions):
    tracker = ConfirmTracker()
    tags = [tracker.published(p) for p in positions]
    return tracker, tags


def test_tags_count_from_one_and_keep_counting_across_batches():
    tracker, tags = batch(10, 11, 12)
    assert tags == [1, 2, 3]
    tracker.ack(3, multiple=True)
    tracker.reset_batch()
    assert tracker.published(13) == 4


def test_unsettled_until_every_tag_is_answered():
    tracker, _ = batch(10, 11, 12)
    assert not tracker.settled
    tracker.ack(1)
    tracker.ack(3)
    assert not tracker.settled
    assert tracker.first_unconfirmed() == 11
    tracker.ack(2)
    assert tracker.settled
    assert tracker.first_unconfirmed() is None


def test_a_multiple_ack_confirms_every_tag_up_to_it():
    tracker, _ = batch(5, 6, 7, 8)
    tracker.ack(3, multiple=True)
    assert tracker.first_unconfirmed() == 8
    tracker.ack(4, multiple=True)
    assert tracker.settled and tracker.first_unconfirmed() is None


def test_acks_out_of_order_leave_the_gap_unconfirmed():
    tracker, _ = batch(1, 2, 3, 4)
    tracker.ack(4)
    tracker.ack(2)
    tracker.ack(1)
    assert tracker.first_unconfirmed() == 3  # 4 is in the broker, but 3 is not: record up to 2 only


def test_a_nack_stops_the_confirmed_prefix_even_if_later_ones_are_acked():
    tracker, _ = batch(20, 21, 22)
    tracker.ack(1)
    tracker.nack(2)
    tracker.ack(3)
    assert tracker.settled
    assert tracker.first_unconfirmed() == 21
    assert tracker.nacked == {2}


def test_a_multiple_nack_covers_only_tags_not_acked():
    tracker, _ = batch(1, 2, 3, 4)
    tracker.ack(1)
    tracker.nack(3, multiple=True)
    assert tracker.nacked == {2, 3}
    assert not tracker.settled
    assert tracker.first_unconfirmed() == 2


def test_a_new_batch_on_the_same_channel_ignores_the_old_one():
    tracker, _ = batch(1, 2)
    tracker.ack(2, multiple=True)
    tracker.reset_batch()
    assert tracker.published(3) == 3
    assert not tracker.settled
    tracker.ack(3)
    assert tracker.first_unconfirmed() is None
