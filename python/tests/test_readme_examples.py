"""The seed README's two examples, as written (the undefined `test_msg` fixed to `user_msg`)."""

import mlops.messaging as mes
import mlops.orchestration as orc


def test_create_an_mlops_message():
    user_msg = "Hello World"
    new_msg = (
            mes.MessageBuilder()
            .with_msg_type(mes.MessageType.START)
            .with_creator_type("ETL")
            .with_creator("ETL")
            .with_user_msg(user_msg)
            .with_next_task("Train")
            .build()
    )
    assert new_msg.user_message == "Hello World"
    assert new_msg.stage is None
    assert new_msg.message_type is mes.MessageType.START
    assert new_msg.creator_type == "mlops"
    assert new_msg.creator == "ETL"
    assert new_msg.next_task == "Train"


def test_get_contents_from_an_mlops_message(inproc, capsys):
    prod = orc.Producer(inproc, "Cool-New-Topic")
    con = orc.Consumer("Cool-New-Topic", inproc)
    prod.send(mes.MessageBuilder().with_creator_type("ETL").with_user_msg("Hello World").build())

    msgs = con.recieve()
    for msg in msgs:
        # get various attributes from the message
        print(msg.creator_type)
        print(msg.topic)
        print(msg.user_message)

    assert len(msgs) == 1
    assert capsys.readouterr().out == "mlops\nNone\nHello World\n"
