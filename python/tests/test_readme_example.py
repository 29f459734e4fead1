from devfault.clients import pybravia_client


async def test_volume_out_of_range_is_reported(devfault):
    devfault.add_fault("code", code=40801, method="setAudioVolume")
    client = pybravia_client(devfault)
    await client.connect(psk="0000")
    assert await client.volume_level(30) is False  # pybravia swallows the error
    assert devfault.wait_for_exchange(rpc_method="setAudioVolume").code == "40801"
    assert devfault.state()["volume"]["speaker"]["volume"] == 25  # unchanged
    await client.disconnect()
