from prefect import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@flow
def tiny(x: int) -> int:
    return double(x)


def test_flows_run_against_the_session_harness(prefect_harness):
    state = tiny(21, return_state=True)
    assert state.is_completed()
    assert state.result() == 42
